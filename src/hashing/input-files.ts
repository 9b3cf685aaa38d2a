/**
 * Expands the `hash` command's arguments into the files to hash, in a stable order: each
 * argument in the order given; a file named explicitly is always hashed (whatever its name);
 * a directory contributes its image files (by extension, case-insensitive, dot-files skipped)
 * sorted by name, and with `recursive` its subdirectories' too, depth first. Symbolic links to
 * files are followed, links to directories are not (no cycles). A missing argument or an
 * unreadable directory becomes an entry carrying its `ERR_FILE_UNREADABLE`, so it is reported
 * in its place and the run goes on.
 */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ImageError } from '../errors.js';

export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.jpe', '.jfif', '.png', '.gif', '.webp', '.tif', '.tiff', '.avif', '.heic', '.heif',
]);

export interface InputFile {
  readonly path: string;
  /** Set when the path cannot be listed or read; the file is reported as failed. */
  readonly error?: ImageError;
}

export interface ListOptions {
  readonly recursive: boolean;
}

export function isImageFileName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

export async function listInputFiles(paths: readonly string[], options: ListOptions): Promise<InputFile[]> {
  const files: InputFile[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (error) {
      files.push({ path, error: unreadable(path, error) });
      continue;
    }
    if (isDirectory) await listDirectory(path, options, files);
    else files.push({ path });
  }
  return files;
}

async function listDirectory(directory: string, options: ListOptions, files: InputFile[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (error) {
    files.push({ path: directory, error: unreadable(directory, error) });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      if (options.recursive && !entry.name.startsWith('.')) await listDirectory(path, options, files);
    } else if (isImageFileName(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && (await isFile(path))))) {
      files.push({ path });
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function unreadable(path: string, error: unknown): ImageError {
  const message = error instanceof Error ? error.message : String(error);
  return new ImageError('ERR_FILE_UNREADABLE', `Cannot read ${path}: ${message}`, { cause: error });
}
