/**
 * Every value of a closed set that crosses IPC has its words in the dictionaries: the sets
 * are the unions generated from Rust (ts-rs), so a new variant without a translation fails
 * `npm run check`, not a teller's screen. (Field-error rule codes are not a Rust enum yet;
 * `i18n.test.ts` keeps those.)
 */
import type { AuthorizationKind } from '../bindings/AuthorizationKind';
import type { CaseState } from '../bindings/CaseState';
import type { ContactChannel } from '../bindings/ContactChannel';
import type { CopyKind } from '../bindings/CopyKind';
import type { DocumentKind } from '../bindings/DocumentKind';
import type { DocumentType } from '../bindings/DocumentType';
import type { ErrorCode } from '../bindings/ErrorCode';
import type { EventKind } from '../bindings/EventKind';
import type { Decision } from '../bindings/Decision';
import type { NotificationChannel } from '../bindings/NotificationChannel';
import type { LockCause } from '../bindings/LockCause';
import type { OnlineCheckResult } from '../bindings/OnlineCheckResult';
import type { OutboxStatus } from '../bindings/OutboxStatus';
import type { PrintChannel } from '../bindings/PrintChannel';
import type { PrintOutcome } from '../bindings/PrintOutcome';
import type { PurgeBatchState } from '../bindings/PurgeBatchState';
import type { ReasonCode } from '../bindings/ReasonCode';
import type { RecordClass } from '../bindings/RecordClass';
import type { RequestedAction } from '../bindings/RequestedAction';
import type { RejectionCode } from '../bindings/RejectionCode';
import type { RevealField } from '../bindings/RevealField';
import type { Role } from '../bindings/Role';
import type { SecondFactor } from '../bindings/SecondFactor';
import type { MessageKey } from './zh-CN';

/** `true` when every `prefix.value` is a message key; `never` (a type error below) otherwise. */
type Covered<P extends string, U extends string> = [`${P}.${U}`] extends [MessageKey] ? true : never;

export const covered: [
  Covered<'error', ErrorCode>,
  Covered<'doc', DocumentType>,
  Covered<'state', CaseState>,
  Covered<'cause', LockCause>,
  Covered<'reason', ReasonCode>,
  Covered<'request', RequestedAction>,
  Covered<'role', Role>,
  Covered<'contact', ContactChannel>,
  Covered<'printkind', DocumentKind>,
  Covered<'copy', CopyKind>,
  Covered<'online', OnlineCheckResult>,
  Covered<'factor', SecondFactor>,
  Covered<'printchannel', PrintChannel>,
  Covered<'printoutcome', PrintOutcome>,
  Covered<'rejection', RejectionCode>,
  Covered<'event', EventKind>,
  Covered<'authkind', AuthorizationKind>,
  Covered<'decision', Decision>,
  Covered<'auth.confirm', Decision>,
  Covered<'notify', NotificationChannel>,
  Covered<'retention.class', RecordClass>,
  Covered<'purgestate', PurgeBatchState>,
  Covered<'reveal.field', RevealField>,
  Covered<'notes.status', OutboxStatus>,
] = [
  true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true,
  true, true, true, true,
];
