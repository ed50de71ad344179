import type { CaseEvent, CaseState } from './case';

/**
 * Who is told of each event. Recipients are addresses, resolved to real endpoints by the
 * notification sender: `owner:<clerk>`, `unit:<unit>`, `supervisor:<division>`,
 * `city-government:<division>`, `provincial-inspection:<division>`, `complainant:<case>`,
 * `competent-body:<name>`, `ops` (operations). A complainant is told only when they can be reached (not anonymous);
 * the complainants of linked duplicate cases get the same updates as this case's.
 */
export function recipientsFor(event: CaseEvent, s: CaseState): string[] {
  const division = s.intake.divisionCode;
  const owner = `owner:${s.owner.id}`;
  const unit = s.unitId ? [`unit:${s.unitId}`] : [];
  const supervisor = `supervisor:${division}`;
  const complainants = [
    ...(s.intake.reporter.anonymous ? [] : [`complainant:${s.caseId}`]),
    ...s.linked.filter((l) => !l.anonymous).map((l) => `complainant:${l.caseId}`),
  ];

  switch (event.type) {
    case 'supplement_requested':
      return complainants;
    case 'accepted':
      return [...unit, ...complainants];
    case 'transferred':
      return [...unit, `unit:${typeof event.data?.from === 'string' ? event.data.from : ''}`, owner, ...complainants].filter(
        (r) => r !== 'unit:',
      );
    case 'deadline_warning':
      return event.data?.clock === 'accept' ? [owner] : [...unit, owner];
    case 'supervision_notice':
      return [...unit, supervisor, owner];
    case 'escalated_city':
      return [`city-government:${division}`, ...unit, supervisor, owner];
    case 'escalated_provincial':
      return [`provincial-inspection:${division}`, `city-government:${division}`, ...unit, supervisor, owner];
    case 'escalated':
      return [...unit, supervisor, owner];
    case 'extension_requested':
      return [supervisor, owner];
    case 'extension_approved':
    case 'extension_denied':
      // The complainant is told the reason either way.
      return [...unit, owner, ...complainants];
    case 'result_submitted':
      return [owner];
    case 'result_returned':
    case 'returned_after_callback':
    case 'reopened':
      return [...unit, owner, supervisor];
    case 'callback_attempt_started':
      return [owner];
    case 'closed': {
      const closure = event.data?.closure;
      if (closure === 'forwarded') return [`competent-body:${String(event.data?.competentBody)}`, ...complainants];
      return complainants.length ? [...complainants, ...unit] : unit;
    }
    case 'review_requested':
      return [supervisor, owner, ...unit];
    case 'review_upheld':
      return [...complainants, owner];
    case 'deadline_tightened':
      return [...unit, owner];
    case 'backlog_listed':
      return [supervisor, `provincial-inspection:${division}`];
    case 'projection_failed':
      // Operations: the read model refuses this case's events (see docs/operations.md).
      return ['ops'];
    default:
      return [];
  }
}
