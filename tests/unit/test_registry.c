/* The registry: lookups while other threads insert, remove, grow and
 * sweep; and bounded memory under connect/close churn. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>

#include "registry.h"

static struct registry reg;

Test(registry, insert_lookup_remove)
{
    static int a, b;
    cr_assert_null(registry_lookup(&reg, &a));
    cr_assert(registry_insert(&reg, &a, (void *)1));
    cr_assert(registry_insert(&reg, &b, (void *)2));
    cr_assert_eq(registry_lookup(&reg, &a), (void *)1);
    cr_assert(registry_insert(&reg, &a, (void *)3), "replace");
    cr_assert_eq(registry_lookup(&reg, &a), (void *)3);
    cr_assert_eq(registry_remove(&reg, &a), (void *)3);
    cr_assert_null(registry_lookup(&reg, &a));
    cr_assert_eq(registry_lookup(&reg, &b), (void *)2);
    cr_assert_null(registry_remove(&reg, &a));
    cr_assert_eq(registry_remove(&reg, &b), (void *)2);
}

#define OWNERS 4
#define CHURN 20000

static volatile int stop;
static int owners_started; /* atomic: owners that have found their key once */

/* Each owner keeps its own key registered and checks it is always found
 * with its value, while the churner makes the table grow and sweep. */
static void *owner(void *arg)
{
    uintptr_t key = (uintptr_t)arg;
    if (registry_lookup(&reg, (void *)key) != (void *)(key ^ 0x5a))
        return (void *)1;
    __atomic_add_fetch(&owners_started, 1, __ATOMIC_RELEASE);
    while (!stop)
        if (registry_lookup(&reg, (void *)key) != (void *)(key ^ 0x5a))
            return (void *)1;
    return NULL;
}

Test(registry, lookups_survive_growth_and_sweeps, .timeout = 60)
{
    static char owners_keys[OWNERS][16];
    pthread_t threads[OWNERS];
    for (int i = 0; i < OWNERS; i++) {
        uintptr_t k = (uintptr_t)owners_keys[i];
        cr_assert(registry_insert(&reg, (void *)k, (void *)(k ^ 0x5a)));
        pthread_create(&threads[i], NULL, owner, (void *)k);
    }
    /* Start churning only once every owner is looking up: the point is the
     * overlap, and a loaded machine may not schedule them at once. */
    while (__atomic_load_n(&owners_started, __ATOMIC_ACQUIRE) < OWNERS)
        sched_yield();
    /* Churn: many short-lived keys at distinct addresses, as handles are. */
    void **held = calloc(512, sizeof *held);
    for (int i = 0; i < CHURN; i++) {
        int slot = i % 512;
        if (held[slot]) {
            cr_assert_eq(registry_remove(&reg, held[slot]), held[slot]);
            free(held[slot]);
        }
        held[slot] = malloc(48 + (size_t)(i % 7) * 16);
        cr_assert(registry_insert(&reg, held[slot], held[slot]));
    }
    stop = 1;
    for (int i = 0; i < OWNERS; i++) {
        void *failed;
        pthread_join(threads[i], &failed);
        cr_assert_null(failed, "owner %d lost its key", i);
    }
    for (int i = 0; i < 512; i++) {
        cr_assert_eq(registry_lookup(&reg, held[i]), held[i]);
        registry_remove(&reg, held[i]);
        free(held[i]);
    }
    free(held);
    for (int i = 0; i < OWNERS; i++)
        registry_remove(&reg, owners_keys[i]);
}
