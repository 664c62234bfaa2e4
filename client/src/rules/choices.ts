// The schema's enumerations as the form offers them (the server validates the value sent either way).
export const KINDS = ['detect', 'point', 'count', 'yesno', 'describe'] as const;
export const SEVERITIES_UI = ['alert', 'detection'] as const;
export const COMPARISONS_UI = ['>=', '>', '<=', '<', '==', '!='] as const;
export const WEEKDAYS_UI = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export const ANCHORS_UI = ['bottom', 'center', 'top'] as const;
