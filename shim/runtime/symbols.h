/* symbols.h - one lazy, cached way to find the real functions behind the
 * ones the shim interposes.
 *
 * Resolved on first use, never in the constructor: the client library is
 * usually loaded later (Python and Perl dlopen it RTLD_LOCAL with an
 * extension module, where RTLD_NEXT cannot see it). Order of search:
 * RTLD_NEXT; the known sonames already loaded (RTLD_NOLOAD); then every
 * loaded object except the shim itself. A symbol found is cached in its
 * slot; one not found stays NULL and is looked for again next time (the
 * library may be loaded later), which is not a hot-path cost because a
 * handle only exists once the library is there.
 */
#ifndef GONESHIM_SYMBOLS_H
#define GONESHIM_SYMBOLS_H

struct real_symbol {
    const char *name;
    const char *version; /* preferred symbol version, or NULL */
    void *address;       /* cached; accessed atomically */
};

#define REAL_SYMBOL(name, version) {#name, version, 0}

/* The real function, or NULL when no loaded object defines it. */
void *symbols_resolve(struct real_symbol *s);

static inline void *symbols_get(struct real_symbol *s)
{
    void *p = __atomic_load_n(&s->address, __ATOMIC_ACQUIRE);
    return p ? p : symbols_resolve(s);
}

#endif
