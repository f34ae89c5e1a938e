#ifndef STEWARD_CSYSTEMD_SHIM_H
#define STEWARD_CSYSTEMD_SHIM_H
// Only the non-variadic libsystemd entry points are used (sd_journal_sendv, not sd_journal_send),
// so Swift can call them directly.
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>
#include <syslog.h>
#endif
