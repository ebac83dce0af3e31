/* SPDX-License-Identifier: MIT */
/*
 * What the tests that start real daemons share (tests/e2e: e2e.c,
 * hvm-guest.c, stubdom.c; tests/toolstack): a case's run directory with
 * xpt-xenstored in it, the processes a case starts there (each logging to
 * DIR/NAME.log, watched through a pidfd), bounded waits on them, the
 * case's first failure, and the clients of a guest's query socket,
 * pciback's control socket and a device model's QMP socket.
 *
 * A test's struct env holds its struct e2e_run as the member `run`;
 * fail() and CHECK() take that env:
 *
 *	CHECK(e, r == 0, "assign %s: %s", bdf(sbdf), strerror(-r));
 *
 * returns false from the calling case with the message in e->run.why,
 * unless an earlier failure is already there.  The e2e_*() functions
 * that return bool have done the same when they return false.
 */
#ifndef XPT_E2E_HARNESS_H
#define XPT_E2E_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WAIT_MS 15000		/* the bound of every wait */
#define E2E_MAX_PROCS 48	/* then the slots of reaped ones are reused */

struct e2e_proc {
	pid_t pid;		/* 0 once reaped */
	int pidfd;		/* -1 once reaped or stopped */
	char name[32];		/* its log is DIR/NAME.log */
};

struct e2e_run {
	char dir[80];
	struct e2e_proc proc[E2E_MAX_PROCS];
	unsigned int nproc;
	char why[768];		/* the first failure */
};

/* A dev line of a guest's status on its query socket. */
struct e2e_qdev {
	char bdf[16], host[16], driver[8], irq[8], counts[80];
	unsigned int vendor, device, class, vectors;
	unsigned long long count;
};

/* A guest's status on its query socket: its xenbus states and the first
 * 16 devices it sees. */
struct e2e_qstatus {
	int fe, be;
	unsigned int n;
	struct e2e_qdev d[16];
};

/* A QMP connection, what was read of it and not yet taken as a line. */
struct e2e_qmp {
	int fd;			/* -1: none */
	size_t len;
	char buf[16384];
};

/* proc.c */
bool e2e_fail(struct e2e_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define fail(e, ...) e2e_fail(&(e)->run, __VA_ARGS__)
#define CHECK(e, cond, ...) \
	do { if (!(cond)) return fail(e, __VA_ARGS__); } while (0)

int64_t e2e_now_ms(void);	/* CLOCK_MONOTONIC */

bool e2e_run_start(struct e2e_run *run, const char *name,
		   const char *xenstored);
bool e2e_start_hypervisor(struct e2e_run *run, const char *bin,
			  const char *hostfile, bool verbose);
void e2e_run_stop(struct e2e_run *run);
void e2e_run_remove(struct e2e_run *run, bool keep);

struct e2e_proc *e2e_spawn(struct e2e_run *run, const char *name,
			   const char *const argv[]);
struct e2e_proc *e2e_spawn_env(struct e2e_run *run, const char *name,
			       const char *const argv[], char *const envp[]);
bool e2e_start_daemon(struct e2e_run *run, const char *name,
		      const char *const argv[], const char *pidfile);
int e2e_proc_reap(struct e2e_proc *p, int ms);
bool e2e_proc_exited(struct e2e_proc *p, int ms);
int e2e_proc_wait(struct e2e_proc *p);
void e2e_proc_stop(struct e2e_proc *p, int sig);
bool e2e_wait_file(struct e2e_run *run, const char *path,
		   struct e2e_proc *p);

/* query.c */
bool e2e_guest_query(struct e2e_run *run, unsigned int domid,
		     const char *req, char *reply, size_t len);
bool e2e_pciback(struct e2e_run *run, const char *req, char *reply,
		 size_t len);
bool e2e_pciback_ok(struct e2e_run *run, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool e2e_qdev_parse(const char *line, struct e2e_qdev *d);
bool e2e_guest_status(struct e2e_run *run, unsigned int domid,
		      struct e2e_qstatus *s);

/* qmp.c */
bool e2e_qmp_connect(struct e2e_run *run, struct e2e_qmp *q,
		     const char *path);
bool e2e_qmp_read(struct e2e_run *run, struct e2e_qmp *q, const char *event,
		  char *out, size_t outlen, int ms, bool quiet);
bool e2e_qmp_send(struct e2e_run *run, struct e2e_qmp *q, const char *cmd,
		  char *reply, size_t len);

#endif
