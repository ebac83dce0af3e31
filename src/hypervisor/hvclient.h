/* SPDX-License-Identifier: MIT */
/*
 * The client side of the hypercall protocol (hvproto.h): what a process of
 * a modelled domain uses instead of privcmd/evtchn/gntdev.  Every function
 * returns 0 or a negative errno, results through ret_* pointers.
 */
#ifndef XPT_HVCLIENT_H
#define XPT_HVCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "hvproto.h"

struct hv_client;

/* $rundir/hv/control (privileged) or $rundir/hv/domain/<domid>. */
int hv_open(const char *rundir, struct hv_client **ret);
int hv_open_domain(const char *rundir, unsigned int domid,
		   struct hv_client **ret);
void hv_close(struct hv_client *h);
unsigned int hv_self(const struct hv_client *h);	/* own domid */
/* Bound of every later call (ms; <= 0: HV_CALL_TIMEOUT_MS). */
#define HV_CALL_TIMEOUT_MS 10000
void hv_set_timeout(struct hv_client *h, int ms);

/* One request/reply; fd_in (or -1) travels with the request, *fd_out (if
 * not NULL) receives a descriptor sent with the reply, else -1.  Bounded:
 * -ETIMEDOUT after the client's timeout (the request may or may not have
 * been carried out); the connection is then dropped and the next call
 * connects again. */
int hv_call(struct hv_client *h, uint32_t op, const void *req,
	    uint32_t reqlen, int fd_in, void *rep, uint32_t replen,
	    int *fd_out);

/* domains */
int hv_domain_create(struct hv_client *h, uint32_t flags, const char *name,
		     uint64_t memory_kb, uint32_t vcpus,
		     unsigned int *ret_domid);
int hv_domain_unpause(struct hv_client *h, unsigned int domid);
int hv_domain_pause(struct hv_client *h, unsigned int domid);
int hv_domain_shutdown(struct hv_client *h, unsigned int domid,
		       uint32_t reason);
int hv_domain_destroy(struct hv_client *h, unsigned int domid);
int hv_domain_getinfo(struct hv_client *h, unsigned int domid,
		      struct hv_domain_info *ret);
/* One page of DOMAIN_LIST (hvproto.h); max 0: a full page. */
int hv_domain_list_page(struct hv_client *h, unsigned int first_domid,
			unsigned int max, struct hv_domain_list *ret);
/* Every domain, in id order, page by page: *ret is malloc'ed (free it).
 * A domain created or destroyed meanwhile may or may not be listed;
 * none is listed twice. */
int hv_domain_list(struct hv_client *h, struct hv_domain_info **ret,
		   size_t *ret_n);
int hv_bind_virq_dom_exc(struct hv_client *h, unsigned int *ret_port,
			 int *ret_fd);

/* event channels; an eventfd becomes readable when its port fires */
int hv_evtchn_alloc_unbound(struct hv_client *h, unsigned int remote_domid,
			    unsigned int *ret_port);
int hv_evtchn_bind_interdomain(struct hv_client *h, unsigned int remote_domid,
			       unsigned int remote_port,
			       unsigned int *ret_port);
int hv_evtchn_bind_pirq(struct hv_client *h, int pirq,
			unsigned int *ret_port);
int hv_evtchn_fd(struct hv_client *h, unsigned int port, int *ret_fd);
int hv_evtchn_send(struct hv_client *h, unsigned int port);
int hv_evtchn_close(struct hv_client *h, unsigned int port);
/* Consume pending notifications on an eventfd: how many arrived. */
int hv_evtchn_ack(int fd, uint64_t *ret_count);

/* grant tables; pages are memfds of HV_PAGE_SIZE */
int hv_page_alloc(int *ret_fd, void **ret_map);
int hv_grant_page(struct hv_client *h, unsigned int remote_domid, int memfd,
		  int readonly, uint32_t *ret_gref);
int hv_map_grant(struct hv_client *h, unsigned int granter, uint32_t gref,
		 int *ret_fd, void **ret_map);
int hv_unmap_grant(struct hv_client *h, unsigned int granter, uint32_t gref);
int hv_end_grant(struct hv_client *h, uint32_t gref);

/* host PCI */
/* One page of PCI_LIST (hvproto.h); max 0: a full page. */
int hv_pci_list_page(struct hv_client *h, uint32_t first_sbdf,
		     unsigned int max, struct hv_pci_list *ret);
/* Every device, in SBDF order, page by page: *ret is malloc'ed (free it).
 * A device added or removed meanwhile may or may not be listed; none is
 * listed twice. */
int hv_pci_list(struct hv_client *h, uint32_t **ret, size_t *ret_n);
int hv_pci_info(struct hv_client *h, uint32_t sbdf, struct hv_pci_dev *ret);
int hv_pci_conf_read(struct hv_client *h, uint32_t sbdf, uint32_t offset,
		     uint32_t size, uint32_t *ret_value);
int hv_pci_conf_write(struct hv_client *h, uint32_t sbdf, uint32_t offset,
		      uint32_t size, uint32_t value);
int hv_pci_reset(struct hv_client *h, uint32_t sbdf);
int hv_pci_raise_irq(struct hv_client *h, uint32_t sbdf, uint32_t type,
		     uint32_t entry, int *ret_delivered);

/* IOMMU and permissions */
int hv_test_assign_device(struct hv_client *h, uint32_t sbdf);
int hv_assign_device(struct hv_client *h, unsigned int domid, uint32_t sbdf);
int hv_deassign_device(struct hv_client *h, unsigned int domid,
		       uint32_t sbdf);
int hv_iomem_permission(struct hv_client *h, unsigned int domid,
			uint64_t first_frame, uint64_t nr, int allow);
int hv_ioport_permission(struct hv_client *h, unsigned int domid,
			 uint64_t first, uint64_t nr, int allow);
int hv_irq_permission(struct hv_client *h, unsigned int domid, int pirq,
		      int allow);

/* physdev */
int hv_map_pirq(struct hv_client *h, unsigned int domid, uint32_t type,
		uint32_t sbdf, uint32_t entry, int *ret_pirq);
int hv_unmap_pirq(struct hv_client *h, unsigned int domid, int pirq);
int hv_prepare_msix(struct hv_client *h, uint32_t sbdf);
int hv_release_msix(struct hv_client *h, uint32_t sbdf);
int hv_msix_state(struct hv_client *h, uint32_t sbdf,
		  struct hv_msix_state *ret);

/* HVM device models (dom0, or a stub domain after set_target): ioreq
 * servers as libxendevicemodel's xendevicemodel_*_ioreq_server */
int hv_set_target(struct hv_client *h, unsigned int domid,
		  unsigned int target);
int hv_ioreq_server_create(struct hv_client *h, unsigned int domid,
			   unsigned int bufioreq, unsigned int *ret_id);
/* *ret_fd (if not NULL): the server's eventfd, readable when a request
 * is waiting for hv_ioreq_fetch. */
int hv_ioreq_server_get_info(struct hv_client *h, unsigned int domid,
			     unsigned int id, struct hv_ioreq_server *ret,
			     int *ret_fd);
int hv_ioreq_map_range(struct hv_client *h, unsigned int domid,
		       unsigned int id, uint32_t type, uint64_t start,
		       uint64_t end);
int hv_ioreq_unmap_range(struct hv_client *h, unsigned int domid,
			 unsigned int id, uint32_t type, uint64_t start,
			 uint64_t end);
int hv_ioreq_server_set_state(struct hv_client *h, unsigned int domid,
			      unsigned int id, int enabled);
int hv_ioreq_server_destroy(struct hv_client *h, unsigned int domid,
			    unsigned int id);
/* The next request sent to the server (-EAGAIN: none), and its answer
 * (a read's value in data; ignored for a write). */
int hv_ioreq_fetch(struct hv_client *h, unsigned int domid, unsigned int id,
		   struct hv_ioreq *ret);
int hv_ioreq_complete(struct hv_client *h, unsigned int domid,
		      unsigned int id, unsigned int vcpu, uint64_t data);

/* An HVM guest's vCPU (its domain socket): port and MMIO accesses, and
 * PCI config space through 0xcf8/0xcfc (segment 0; one access at a time
 * per domain, as a guest's PCI config lock keeps it).  A claimed access
 * waits for its emulator, bounded by the client's timeout (-ETIMEDOUT:
 * the vCPU stays blocked until the emulator answers). */
int hv_hvm_io(struct hv_client *h, struct hv_hvm_io *io);
int hv_hvm_port_read(struct hv_client *h, unsigned int vcpu, uint16_t port,
		     uint32_t size, uint32_t *ret_value);
int hv_hvm_port_write(struct hv_client *h, unsigned int vcpu, uint16_t port,
		      uint32_t size, uint32_t value);
int hv_hvm_config_read(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
		       uint32_t reg, uint32_t size, uint32_t *ret_value);
int hv_hvm_config_write(struct hv_client *h, unsigned int vcpu, uint32_t sbdf,
			uint32_t reg, uint32_t size, uint32_t value);

/* The guest's vector (0..255) as an eventfd: it counts the pass-through
 * MSIs bound to it (the model's stand-in for the local APIC). */
int hv_hvm_vector_fd(struct hv_client *h, unsigned int vector, int *ret_fd);

/* The guest's ISA IRQ line (0..15) as an eventfd counting its rising
 * edges (the model's stand-in for the vPIC/vIOAPIC input). */
int hv_hvm_isa_irq_fd(struct hv_client *h, unsigned int irq, int *ret_fd);
/* A device model drives one of its guest's ISA IRQ lines
 * (xendevicemodel_set_isa_irq_level). */
int hv_set_isa_irq_level(struct hv_client *h, unsigned int domid,
			 unsigned int irq, unsigned int level);

/* Pass-through IRQs (XEN_DOMCTL_bind_pt_irq / unbind_pt_irq). */
int hv_bind_pt_irq(struct hv_client *h, const struct hv_pt_irq *b);
int hv_unbind_pt_irq(struct hv_client *h, const struct hv_pt_irq *b);
int hv_pt_irq_info(struct hv_client *h, unsigned int domid, int pirq,
		   struct hv_pt_irq *ret);

/* A PVH guest's vCPU (its domain socket): config space of its devices
 * at their virtual SBDFs (0000:00:dd.0) and memory accesses through its
 * p2m, as vPCI traps and maps them (hvproto.h HV_OP_VPCI_*). */
int hv_vpci_conf_read(struct hv_client *h, uint32_t vcpu, uint32_t gsbdf,
		      uint32_t reg, uint32_t size, uint32_t *ret_value);
int hv_vpci_conf_write(struct hv_client *h, uint32_t vcpu, uint32_t gsbdf,
		       uint32_t reg, uint32_t size, uint32_t value);
int hv_vpci_mmio_read(struct hv_client *h, uint32_t vcpu, uint64_t gaddr,
		      uint32_t size, uint64_t *ret_value);
int hv_vpci_mmio_write(struct hv_client *h, uint32_t vcpu, uint64_t gaddr,
		       uint32_t size, uint64_t value);
/* Physical hot-unplug and re-add (PHYSDEVOP_pci_device_remove / _add). */
int hv_pci_device_remove(struct hv_client *h, uint32_t sbdf);
int hv_pci_device_add(struct hv_client *h, uint32_t sbdf);
/* vPCI's state of host device sbdf in PVH domain domid. */
int hv_vpci_info(struct hv_client *h, unsigned int domid, uint32_t sbdf,
		 struct hv_vpci_info *ret);

/* "0000:03:00.1" <-> sbdf */
int hv_parse_bdf(const char *s, uint32_t *ret_sbdf);

/* the host: XEN_SYSCTL_physinfo's capabilities (HV_PHYSCAP_*), and the
 * console's boot messages as NUL-terminated text */
int hv_physinfo(struct hv_client *h, uint32_t *ret_caps);
int hv_readconsole(struct hv_client *h, char *buf, size_t len);
void hv_format_bdf(uint32_t sbdf, char *buf, size_t len);

#endif
