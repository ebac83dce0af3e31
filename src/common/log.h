/* SPDX-License-Identifier: MIT */
/* Logging for every xpt process: lines carry the process name. */
#ifndef XPT_LOG_H
#define XPT_LOG_H

#include <stdarg.h>

enum { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int log_level;

void log_init(const char *progname, int level);
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_level >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
