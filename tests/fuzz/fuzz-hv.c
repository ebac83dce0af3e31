// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for xpt-hypervisor's two parsers: the host file
 * (input starting with 'H') and the hypercall protocol (otherwise: a
 * sequence of messages, each [flags byte][u16 length][message], served
 * by hyp_dispatch in-process against a small host, privileged when bit 0
 * of flags is set, else as domain 2 when bit 1 is, else as domain 1).
 * Domain 1 is an HVM guest with passthrough, so the ioreq-server, guest
 * I/O and bind_pt_irq ops are reached; a guest access an emulator claimed
 * is collected after every message, as the daemon's loop does.  Domain 2
 * is a PVH guest with the NIC (vPCI, its BARs' iomem granted): its
 * config and MMIO accesses run on its vCPU threads.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor.h"
#include "log.h"

static const char host[] =
	"03:00.0 8086:1572 class=020000 bar0=1M,mem64 bar2=16K,mem64 msix=8 "
	"msix-bar=2 intx=a vfs=2\n"
	"02:00.0 10de:1eb8 class=030000 bar0=16M intx=a msi=4 reset=bus\n"
	"05:00.0 1234:1111 class=ff0000 bar0=8K msix=4 pcie=no reset=none\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char reply[HV_MSG_MAX];
	struct hyp *h;
	char err[256];
	uint32_t d, pvh, v;
	unsigned int i;
	size_t replen;
	uint64_t answer;

	log_init("fuzz-hv", -1);
	if (hyp_new(&h) < 0)
		return 0;
	hyp_vpci_set_checks(h, false);	/* once per input, below */
	if (size && data[0] == 'H') {
		char *text = malloc(size);

		if (text) {
			memcpy(text, data + 1, size - 1);
			text[size - 1] = '\0';
			hyp_host_parse(h, text, "fuzz", err, sizeof(err));
			free(text);
		}
		hyp_free(h);
		return 0;
	}
	if (hyp_host_parse(h, host, "fuzz", err, sizeof(err)) < 0 ||
	    hyp_domain_create(h, HV_DOMF_PASSTHROUGH | HV_DOMF_HVM, "g", 0, 2,
			      &d) < 0 || hyp_domain_unpause(h, d) < 0 ||
	    hyp_domain_create(h, HV_DOMF_PASSTHROUGH | HV_DOMF_PVH, "p", 0, 1,
			      &pvh) < 0 ||
	    hyp_assign(h, pvh, HV_SBDF(0, 3, 0, 0)) < 0 ||
	    hyp_perm_set(h, HYP_PERM_IOMEM, pvh, 0x380000000ull, 0x200,
			 true) < 0)
		abort();
	while (size >= 3) {
		bool priv = data[0] & 1;
		uint32_t as = priv ? 0 : data[0] & 2 ? pvh : d;
		size_t len = (size_t)data[1] | (size_t)data[2] << 8;
		int fd;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		hyp_dispatch(h, as, priv, data, len, -1, reply, &replen, &fd);
		if (fd >= 0)
			close(fd);
		if (replen < sizeof(struct hv_msg) || replen > HV_MSG_MAX)
			abort();
		for (v = 0; v < 2; v++)
			hyp_hvm_io_collect(h, d, v, &answer);
		data += len;
		size -= len;
	}
	/* Every vPCI access above was answered: the model is at rest. */
	if (hyp_vpci_check(h, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz-hv: vPCI invariant violated: %s\n", err);
		abort();
	}
	/* A dead domain's devices went back to dom0 or DOMID_IO. */
	for (i = 0; i < h->npci; i++) {
		uint32_t owner = h->pci[i]->info.owner;

		if (owner != HV_DOMID_IO && !hyp_domain_get(h, owner)) {
			fprintf(stderr, "fuzz-hv: %#x owned by domain %u, which "
				"does not exist\n", h->pci[i]->info.sbdf, owner);
			abort();
		}
	}
	hyp_free(h);
	return 0;
}
