/** One entry of the signal log, exactly as auditors are served it and as its leaf is hashed (SPEC §5). */
export interface AuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly kid: string | null;
  readonly action: string;
  readonly subject: string;
  readonly data: Record<string, unknown>;
  readonly proof: string | null;
}
