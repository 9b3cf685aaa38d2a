/**
 * The status rule of SPEC §2: a signal with no active submission is `retracted`; one whose
 * false-positive opinions are at least as many as its submitters plus confirmations is
 * `disputed`; otherwise it is `active`. Only `false_positive` opinions count toward disputes.
 */

export type SignalStatus = 'active' | 'disputed' | 'retracted';

export function signalStatus(submitters: number, confirms: number, falsePositives: number): SignalStatus {
  if (submitters === 0) return 'retracted';
  if (falsePositives >= submitters + confirms) return 'disputed';
  return 'active';
}
