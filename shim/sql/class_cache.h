/* class_cache.h - the last few statements a handle ran, with their class.
 *
 * Workers send the same statements again and again. Classifying one costs
 * a few hundred instructions per token; recognising it costs a length
 * compare and a memcmp. The class is a pure function of the text, so an
 * exact match is always right. Short statements only (the common ones in
 * a loop; a long one costs the network far more than its classification),
 * a handful per handle, replaced round-robin: a fixed size, no allocation.
 * A class depends on the server too: whoever changes the server profile of
 * a handle clears its cache.
 */
#ifndef GONESHIM_CLASS_CACHE_H
#define GONESHIM_CLASS_CACHE_H

#include <stddef.h>
#include <string.h>

#include "server_profile.h"

#include "statement_class.h"

#define CLASS_CACHE_ENTRIES 4
#define CLASS_CACHE_TEXT_MAX 96

struct class_cache {
    struct {
        unsigned char len; /* 0: empty */
        char text[CLASS_CACHE_TEXT_MAX];
        struct statement_class class;
    } entry[CLASS_CACHE_ENTRIES];
    unsigned next;
};

/* Classifies `sql` for `server`, from the cache when it holds the same
 * text. */
static inline void classify_cached(struct class_cache *cache, const char *sql, size_t len,
                                   const struct server_profile *server, struct statement_class *out)
{
    if (len == 0 || len > CLASS_CACHE_TEXT_MAX) {
        classify_statement(sql, len, server, out);
        return;
    }
    for (unsigned i = 0; i < CLASS_CACHE_ENTRIES; i++) {
        if (cache->entry[i].len == len && memcmp(cache->entry[i].text, sql, len) == 0) {
            *out = cache->entry[i].class;
            return;
        }
    }
    classify_statement(sql, len, server, out);
    unsigned slot = cache->next++ % CLASS_CACHE_ENTRIES;
    cache->entry[slot].len = (unsigned char)len;
    memcpy(cache->entry[slot].text, sql, len);
    cache->entry[slot].class = *out;
}

#endif
