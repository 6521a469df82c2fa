/* registry.h - from a library's handle pointer to the driver's record of it.
 *
 * Private to the driver, which keeps one registry per kind of handle
 * (connections, prepared statements) behind typed functions.
 *
 * Lookups are lock-free (the hot path takes no global lock and writes no
 * shared memory): an open addressing table of atomic slots. Insertion and
 * removal happen on connect and close, under registry_lock; they touch only
 * their own slot, which never disturbs a lookup of another handle.
 * Two rarer changes move keys, and are made safe differently:
 * - Growth (more live handles than a quarter of the slots) publishes a
 *   table twice the size. The old one is kept, never freed, so a lookup
 *   still walking it reads valid memory (the retired tables add up to less
 *   than the current one: memory stays bounded by twice the peak).
 * - Sweeping tombstones left by closed handles happens in place, inside a
 *   sequence lock: a lookup that overlapped a sweep sees the sequence
 *   change and simply looks again.
 */
#ifndef GONESHIM_REGISTRY_H
#define GONESHIM_REGISTRY_H

#include <stdbool.h>

struct registry_table;

/* Zero-initialised: an empty registry. */
struct registry {
    struct registry_table *current; /* published with release, read with acquire */
    unsigned sweep_sequence;        /* odd while a sweep moves keys */
};

/* Returns the value registered for key, or NULL. */
void *registry_lookup(struct registry *r, const void *key);
/* Registers key -> value (replacing any). False when out of memory. */
bool registry_insert(struct registry *r, const void *key, void *value);
/* Removes key; returns its value (for the caller to free) or NULL. */
void *registry_remove(struct registry *r, const void *key);

#endif
