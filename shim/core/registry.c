/* registry.c - lock-free lookup tables (see registry.h). */
#include "registry.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global_locks.h"

#define TOMBSTONE ((uintptr_t)1)
#define INITIAL_CAPACITY 64

struct slot {
    uintptr_t key; /* 0 empty, TOMBSTONE removed, else the handle pointer */
    void *value;
};

struct registry_table {
    size_t mask;        /* capacity - 1; capacity a power of two */
    size_t used;        /* live + tombstones: probe chains end at empty */
    size_t live;
    struct registry_table *older;
    struct slot slots[];
};

static size_t slot_index(uintptr_t key, size_t mask)
{
    /* Handles are heap pointers: drop the always-zero low bits, then mix. */
    uint64_t h = (uint64_t)(key >> 4) * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & mask;
}

static void *probe(struct registry_table *t, uintptr_t k)
{
    for (size_t i = slot_index(k, t->mask), n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        uintptr_t seen = __atomic_load_n(&t->slots[i].key, __ATOMIC_ACQUIRE);
        if (seen == k)
            return __atomic_load_n(&t->slots[i].value, __ATOMIC_ACQUIRE);
        if (seen == 0)
            return NULL;
    }
    return NULL;
}

void *registry_lookup(struct registry *r, const void *key)
{
    for (;;) {
        unsigned before = __atomic_load_n(&r->sweep_sequence, __ATOMIC_ACQUIRE);
        if (before & 1)
            continue; /* a sweep is under way: it takes microseconds */
        struct registry_table *t = __atomic_load_n(&r->current, __ATOMIC_ACQUIRE);
        void *value = t ? probe(t, (uintptr_t)key) : NULL;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&r->sweep_sequence, __ATOMIC_RELAXED) == before)
            return value;
    }
}

static struct registry_table *new_table(size_t capacity)
{
    struct registry_table *t = calloc(1, sizeof *t + capacity * sizeof(struct slot));
    if (t != NULL)
        t->mask = capacity - 1;
    return t;
}

/* With registry_lock held; key known to be absent from t. */
static void put(struct registry_table *t, uintptr_t key, void *value)
{
    size_t i = slot_index(key, t->mask);
    while (t->slots[i].key > TOMBSTONE)
        i = (i + 1) & t->mask;
    if (t->slots[i].key == 0)
        t->used++;
    t->live++;
    /* Value first: a reader that sees the key must see its value. */
    __atomic_store_n(&t->slots[i].value, value, __ATOMIC_RELEASE);
    __atomic_store_n(&t->slots[i].key, key, __ATOMIC_RELEASE);
}

static struct slot *find(struct registry_table *t, uintptr_t key)
{
    for (size_t i = slot_index(key, t->mask), n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        if (t->slots[i].key == key)
            return &t->slots[i];
        if (t->slots[i].key == 0)
            return NULL;
    }
    return NULL;
}

/* Rebuilds t's live keys, without tombstones, in place. */
static bool sweep_in_place(struct registry *r, struct registry_table *t)
{
    size_t capacity = t->mask + 1;
    struct registry_table *scratch = new_table(capacity);
    if (scratch == NULL)
        return false;
    for (size_t i = 0; i < capacity; i++)
        if (t->slots[i].key > TOMBSTONE)
            put(scratch, t->slots[i].key, t->slots[i].value);

    __atomic_store_n(&r->sweep_sequence, r->sweep_sequence + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (size_t i = 0; i < capacity; i++) {
        __atomic_store_n(&t->slots[i].value, scratch->slots[i].value, __ATOMIC_RELAXED);
        __atomic_store_n(&t->slots[i].key, scratch->slots[i].key, __ATOMIC_RELAXED);
    }
    t->used = scratch->used;
    __atomic_store_n(&r->sweep_sequence, r->sweep_sequence + 1, __ATOMIC_RELEASE);
    free(scratch);
    return true;
}

/* Makes room for one more key in r->current (registry_lock held). */
static bool make_room(struct registry *r)
{
    struct registry_table *t = r->current;
    if (t != NULL && (t->used + 1) * 2 <= t->mask + 1)
        return true;
    if (t != NULL && (t->live + 1) * 4 <= t->mask + 1)
        return sweep_in_place(r, t);

    size_t capacity = t ? (t->mask + 1) * 2 : INITIAL_CAPACITY;
    struct registry_table *bigger = new_table(capacity);
    if (bigger == NULL)
        return false;
    if (t != NULL)
        for (size_t i = 0; i <= t->mask; i++)
            if (t->slots[i].key > TOMBSTONE)
                put(bigger, t->slots[i].key, t->slots[i].value);
    bigger->older = t;
    __atomic_store_n(&r->current, bigger, __ATOMIC_RELEASE);
    return true;
}

bool registry_insert(struct registry *r, const void *key, void *value)
{
    uintptr_t k = (uintptr_t)key;
    bool ok = true;
    pthread_mutex_lock(&registry_lock);
    struct slot *s = r->current ? find(r->current, k) : NULL;
    if (s != NULL)
        __atomic_store_n(&s->value, value, __ATOMIC_RELEASE);
    else {
        ok = make_room(r);
        if (ok)
            put(r->current, k, value);
    }
    pthread_mutex_unlock(&registry_lock);
    return ok;
}

void *registry_remove(struct registry *r, const void *key)
{
    uintptr_t k = (uintptr_t)key;
    void *value = NULL;
    pthread_mutex_lock(&registry_lock);
    /* Tombstone the key in the retired tables too, so that a lookup still
     * walking one of them can never find a freed value for an address that
     * malloc hands out again. */
    for (struct registry_table *t = r->current; t != NULL; t = t->older) {
        struct slot *s = find(t, k);
        if (s == NULL)
            continue;
        if (t == r->current) {
            value = s->value;
            t->live--;
        }
        __atomic_store_n(&s->key, TOMBSTONE, __ATOMIC_RELEASE);
        __atomic_store_n(&s->value, NULL, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&registry_lock);
    return value;
}
