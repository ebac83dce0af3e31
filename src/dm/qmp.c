// SPDX-License-Identifier: MIT
/*
 * xpt-dm's QMP monitor, as QEMU 7.2 speaks it: the greeting; nothing but
 * qmp_capabilities until it is sent; one JSON object per request, the
 * checks in QEMU's order (JSON, object, 'execute', its type, 'arguments'
 * an object, negotiation, the command, its parameters); replies
 * {"return": V, "id": I} and errors {"id": I, "error": {"class", "desc"}}
 * with QEMU's classes and texts; events with a timestamp.  Worked example
 * (tests/dm compares it with Debian's QEMU):
 *
 *   > {"execute":"query-status","id":1}
 *   < {"id": 1, "error": {"class": "CommandNotFound", "desc": "Expecting
 *      capabilities negotiation with 'qmp_capabilities'"}}
 *   > {"execute":"qmp_capabilities","id":2}
 *   < {"return": {}, "id": 2}
 *   > {"execute":"cont","id":3}
 *   < {"timestamp": {...}, "event": "RESUME"}
 *   < {"return": {}, "id": 3}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "dm.h"
#include "json.h"
#include "log.h"

struct req {
	struct dm *d;
	yajl_val id;		/* NULL: none given */
	yajl_val args;		/* an object, or NULL */
};

#define GS(g, s) yajl_gen_string(g, (const unsigned char *)(s), strlen(s))

/* One line to the client, in one call; a client that cannot take it is
 * dropped (no QMP peer may block the device model). */
static void send_line(struct dm *d, const unsigned char *buf, size_t len)
{
	struct iovec iov[2] = {
		{ (void *)buf, len }, { (void *)"\r\n", 2 },
	};
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	if (d->client_fd < 0)
		return;
	if (sendmsg(d->client_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)(len + 2)) {
		log_warn("QMP client of domain %u does not read: dropped",
			 d->domid);
		close(d->client_fd);
		d->client_fd = -1;
	}
}

static void send_gen(struct dm *d, yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok)
		send_line(d, buf, len);
	yajl_gen_free(g);
}

static yajl_gen gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		fatal("out of memory");
	return g;
}

static void reply_error(struct req *q, const char *class, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));
static void reply_error(struct req *q, const char *class, const char *fmt,
			...)
{
	yajl_gen g = gen_new();
	char desc[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	yajl_gen_map_open(g);
	if (q->id) {
		GS(g, "id");
		json_gen_value(g, q->id);
	}
	GS(g, "error");
	yajl_gen_map_open(g);
	GS(g, "class");
	GS(g, class);
	GS(g, "desc");
	GS(g, desc);
	yajl_gen_map_close(g);
	yajl_gen_map_close(g);
	send_gen(q->d, g);
}

/* {"return": <value text>, "id": I} */
static void reply_return(struct req *q, const char *value_json)
{
	char err[64];
	yajl_val v = yajl_tree_parse(value_json, err, sizeof(err));
	yajl_gen g = gen_new();

	yajl_gen_map_open(g);
	GS(g, "return");
	if (v)
		json_gen_value(g, v);
	else
		yajl_gen_null(g);
	if (q->id) {
		GS(g, "id");
		json_gen_value(g, q->id);
	}
	yajl_gen_map_close(g);
	yajl_tree_free(v);
	send_gen(q->d, g);
}

void qmp_event(struct dm *d, const char *name, const char *data_json)
{
	struct timeval tv;
	char line[1024];
	int n;

	gettimeofday(&tv, NULL);
	n = snprintf(line, sizeof(line), "{\"timestamp\": {\"seconds\": %lld, "
		     "\"microseconds\": %ld}, \"event\": \"%s\"%s%s}",
		     (long long)tv.tv_sec, (long)tv.tv_usec, name,
		     data_json ? ", \"data\": " : "", data_json ? data_json :
		     "");
	if (n > 0 && (size_t)n < sizeof(line))
		send_line(d, (const unsigned char *)line, (size_t)n);
}

void qmp_greet(struct dm *d)
{
	static const char greeting[] =
		"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": "
		"2, \"major\": 7}, \"package\": \"xpt-dm " XPT_VERSION "\"}, "
		"\"capabilities\": [\"oob\"]}}";

	send_line(d, (const unsigned char *)greeting, sizeof(greeting) - 1);
}

/* A string argument, NULL when absent; *ret_bad when it is not one. */
static const char *arg_str(struct req *q, const char *name, bool *ret_bad)
{
	const char *path[] = { name, NULL };
	yajl_val v = q->args ? yajl_tree_get(q->args, path, yajl_t_any) : NULL;

	if (v && !YAJL_IS_STRING(v)) {
		*ret_bad = true;
		reply_error(q, "GenericError", "Invalid parameter type for "
			    "'%s', expected: string", name);
		return NULL;
	}
	return v ? YAJL_GET_STRING(v) : NULL;
}

/* A boolean parameter, as QEMU's device_add takes it from JSON (a
 * string "on" is a type error there too); absent: false. */
static bool arg_bool(struct req *q, const char *name, bool *ret_bad)
{
	const char *path[] = { name, NULL };
	yajl_val v = q->args ? yajl_tree_get(q->args, path, yajl_t_any) : NULL;

	if (v && !YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v)) {
		*ret_bad = true;
		reply_error(q, "GenericError", "Invalid parameter type for "
			    "'%s', expected: boolean", name);
		return false;
	}
	return v && YAJL_IS_TRUE(v);
}

/* Only the parameters a command knows (QEMU: "Parameter 'x' is
 * unexpected"). */
static bool args_known(struct req *q, const char *const *known)
{
	size_t i, k;

	for (i = 0; q->args && i < YAJL_GET_OBJECT(q->args)->len; i++) {
		const char *key = YAJL_GET_OBJECT(q->args)->keys[i];

		for (k = 0; known && known[k] && strcmp(known[k], key); k++)
			;
		if (!known || !known[k]) {
			reply_error(q, "GenericError", "Parameter '%s' is "
				    "unexpected", key);
			return false;
		}
	}
	return true;
}

static void cmd_capabilities(struct req *q)
{
	if (!args_known(q, NULL))
		return;
	q->d->negotiated = true;
	reply_return(q, "{}");
}

static void cmd_query_status(struct req *q)
{
	static const char *const names[] = {
		[DM_PRELAUNCH] = "prelaunch", [DM_RUNNING] = "running",
		[DM_PAUSED] = "paused",
	};
	char v[128];

	if (!args_known(q, NULL))
		return;
	snprintf(v, sizeof(v), "{\"status\": \"%s\", \"singlestep\": false, "
		 "\"running\": %s}", names[q->d->status],
		 q->d->status == DM_RUNNING ? "true" : "false");
	reply_return(q, v);
}

static void cmd_cont(struct req *q)
{
	if (!args_known(q, NULL))
		return;
	if (q->d->status != DM_RUNNING) {
		dm_set_status(q->d, DM_RUNNING);
		qmp_event(q->d, "RESUME", NULL);
	}
	reply_return(q, "{}");
}

static void cmd_stop(struct req *q)
{
	if (!args_known(q, NULL))
		return;
	if (q->d->status == DM_RUNNING) {
		dm_set_status(q->d, DM_PAUSED);
		qmp_event(q->d, "STOP", NULL);
	}
	reply_return(q, "{}");
}

static void cmd_quit(struct req *q)
{
	if (!args_known(q, NULL))
		return;
	qmp_event(q->d, "SHUTDOWN", "{\"guest\": false, \"reason\": "
		  "\"host-qmp-quit\"}");
	reply_return(q, "{}");
	q->d->quit = true;
}

static void cmd_device_add(struct req *q)
{
	static const char *const known[] = {
		"driver", "id", "hostaddr", "addr", "permissive", "bus",
		"machine_addr", NULL,
	};
	const char *driver, *id, *host, *addr;
	bool bad = false, perm;
	char err[256];

	if (!args_known(q, known))
		return;
	driver = arg_str(q, "driver", &bad);
	id = bad ? NULL : arg_str(q, "id", &bad);
	host = bad ? NULL : arg_str(q, "hostaddr", &bad);
	addr = bad ? NULL : arg_str(q, "addr", &bad);
	perm = bad ? false : arg_bool(q, "permissive", &bad);
	if (bad)
		return;
	if (!driver) {
		reply_error(q, "GenericError", "Parameter 'driver' is missing");
		return;
	}
	if (strcmp(driver, "xen-pci-passthrough")) {
		reply_error(q, "GenericError", "'%s' is not a valid device "
			    "model name", driver);
		return;
	}
	if (pt_add(q->d, id ? id : "", host, addr, perm, err,
		   sizeof(err)) < 0) {
		reply_error(q, "GenericError", "%s", err);
		return;
	}
	reply_return(q, "{}");
}

static void cmd_device_del(struct req *q)
{
	static const char *const known[] = { "id", NULL };
	const char *id;
	bool bad = false;
	int r;

	if (!args_known(q, known))
		return;
	id = arg_str(q, "id", &bad);
	if (bad)
		return;
	if (!id) {
		reply_error(q, "GenericError", "Parameter 'id' is missing");
		return;
	}
	/* only a request: DEVICE_DELETED comes when the guest ejects */
	r = pt_del(q->d, id);
	if (r == -EBUSY)
		reply_error(q, "GenericError", "Device %s is already in the "
			    "process of unplug", id);
	else if (r < 0)
		reply_error(q, "DeviceNotFound", "Device '%s' not found", id);
	else
		reply_return(q, "{}");
}

static void cmd_query_pci(struct req *q)
{
	char *v;

	if (!args_known(q, NULL))
		return;
	v = pt_query_json(q->d);
	reply_return(q, v ? v : "[]");
	free(v);
}

static const struct {
	const char *name;
	void (*fn)(struct req *q);
} cmds[] = {
	{ "qmp_capabilities", cmd_capabilities },
	{ "query-status", cmd_query_status },
	{ "cont", cmd_cont },
	{ "stop", cmd_stop },
	{ "quit", cmd_quit },
	{ "device_add", cmd_device_add },
	{ "device_del", cmd_device_del },
	{ "query-pci", cmd_query_pci },
};

/* One request line, checked in QEMU's order. */
static void request(struct dm *d, const char *line)
{
	const char *exec_p[] = { "execute", NULL }, *args_p[] = { "arguments",
								    NULL };
	const char *id_p[] = { "id", NULL }, *name;
	struct req q = { .d = d };
	char err[256];
	yajl_val v = yajl_tree_parse(line, err, sizeof(err)), ex;
	size_t i;

	if (!v) {
		char *nl = strchr(err, '\n');

		if (nl)
			*nl = '\0';
		reply_error(&q, "GenericError", "JSON parse error, %s", err);
		return;
	}
	if (!YAJL_IS_OBJECT(v)) {
		reply_error(&q, "GenericError", "QMP input must be a JSON "
			    "object");
		goto out;
	}
	q.id = yajl_tree_get(v, id_p, yajl_t_any);
	ex = yajl_tree_get(v, exec_p, yajl_t_any);
	q.args = yajl_tree_get(v, args_p, yajl_t_any);
	if (!ex) {
		reply_error(&q, "GenericError", "QMP input lacks member "
			    "'execute'");
		goto out;
	}
	if (!YAJL_IS_STRING(ex)) {
		reply_error(&q, "GenericError", "QMP input member 'execute' "
			    "must be a string");
		goto out;
	}
	if (q.args && !YAJL_IS_OBJECT(q.args)) {
		reply_error(&q, "GenericError", "QMP input member 'arguments' "
			    "must be an object");
		goto out;
	}
	name = YAJL_GET_STRING(ex);
	if (!d->negotiated && strcmp(name, "qmp_capabilities")) {
		reply_error(&q, "CommandNotFound", "Expecting capabilities "
			    "negotiation with 'qmp_capabilities'");
		goto out;
	}
	if (d->negotiated && !strcmp(name, "qmp_capabilities")) {
		reply_error(&q, "CommandNotFound", "Capabilities negotiation "
			    "is already complete, command ignored");
		goto out;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmds[i].name, name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		reply_error(&q, "CommandNotFound", "The command %.100s has not "
			    "been found", name);
		goto out;
	}
	log_debug("QMP %s", name);
	cmds[i].fn(&q);
out:
	yajl_tree_free(v);
}

int qmp_input(struct dm *d)
{
	size_t start = 0;
	char *nl;

	/* Lines are taken off by moving `start`, and what is left moved
	 * to the front once: a buffer of short lines costs its length,
	 * not its length per line (64 KiB of empty lines moved 2 GB). */
	while (d->client_fd >= 0 && !d->quit &&
	       (nl = memchr(d->in + start, '\n', d->in_len - start))) {
		char *line = d->in + start;
		size_t l = (size_t)(nl - line);

		*nl = '\0';
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';
		if (line[0])
			request(d, line);
		start += l + 1;
	}
	if (start) {
		memmove(d->in, d->in + start, d->in_len - start);
		d->in_len -= start;
	}
	if (d->in_len >= DM_MAX_LINE) {
		log_warn("QMP client of domain %u sent a line over %d bytes: "
			 "dropped", d->domid, DM_MAX_LINE);
		return -EPROTO;
	}
	return d->client_fd >= 0 ? 0 : -EPIPE;
}
