/* symbols.c - lazy symbol resolution (see symbols.h). */
#include "symbols.h"

#include <dlfcn.h>
#include <link.h>
#include <stddef.h>
#include <string.h>

/* The client libraries goneshim knows, by soname. */
static const char *const client_sonames[] = {
    "libmariadb.so.3",
    "libmysqlclient.so.21",
    "libmysqlclient.so.18",
};

static int is_own_object(void *address)
{
    Dl_info mine, theirs;
    if (!dladdr((void *)symbols_resolve, &mine) || !dladdr(address, &theirs))
        return 0;
    return mine.dli_fbase == theirs.dli_fbase;
}

static void *lookup_in(void *handle, const struct real_symbol *s)
{
    void *p = NULL;
    if (s->version)
        p = dlvsym(handle, s->name, s->version);
    if (p == NULL)
        p = dlsym(handle, s->name);
    if (p != NULL && is_own_object(p))
        p = NULL;
    return p;
}

struct search {
    const struct real_symbol *symbol;
    void *found;
};

static int search_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct search *search = data;
    if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
        return 0; /* the main program: already covered by RTLD_NEXT */
    void *handle = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
    if (handle == NULL)
        return 0;
    search->found = lookup_in(handle, search->symbol);
    dlclose(handle); /* NOLOAD took a reference; give it back */
    return search->found != NULL;
}

void *symbols_resolve(struct real_symbol *s)
{
    void *p = lookup_in(RTLD_NEXT, s);
    for (size_t i = 0; p == NULL && i < sizeof client_sonames / sizeof client_sonames[0]; i++) {
        void *handle = dlopen(client_sonames[i], RTLD_LAZY | RTLD_NOLOAD);
        if (handle != NULL) {
            p = lookup_in(handle, s);
            dlclose(handle);
        }
    }
    if (p == NULL) {
        struct search search = {s, NULL};
        dl_iterate_phdr(search_object, &search);
        p = search.found;
    }
    /* Racing threads store the same value: no lock needed. */
    if (p != NULL)
        __atomic_store_n(&s->address, p, __ATOMIC_RELEASE);
    return p;
}
