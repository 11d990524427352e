package audit

// EventAccess records a read of data (a log source): who read what, when,
// and, when the read ended, how much.
const EventAccess = "access"
