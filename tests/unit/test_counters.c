/* The counters' Prometheus text, and the README's table of them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "counters.h"
#include "readme_text.h"

Test(counters, render_names_every_slot_with_its_pid_and_value)
{
    counters_reset();
    counter_add(COUNT_RECONNECT_PEER_CLOSED, 3);
    counter_add(COUNT_RECONNECT_MICROSECONDS, 1500042);
    counter_add(COUNT_TRANSACTIONS_REPLAYED, 2);
    counter_add(COUNT_HANDLES_MYSQLND, 1);
    static char text[8192];
    size_t n = counters_render(text, sizeof text, 4242, 99);
    cr_assert_eq(n, strlen(text));
    cr_assert(strncmp(text, "# goneshim pid=4242 start=99\n", 29) == 0, "%s", text);
    cr_assert(strstr(text, "goneshim_reconnects_total{pid=\"4242\",reason=\"peer_closed\"} 3\n") != NULL, "%s", text);
    cr_assert(strstr(text, "goneshim_reconnects_total{pid=\"4242\",reason=\"ping_failed\"} 0\n") != NULL);
    cr_assert(strstr(text, "goneshim_reconnect_seconds_total{pid=\"4242\"} 1.500042\n") != NULL, "%s", text);
    cr_assert(strstr(text, "goneshim_transactions_replayed_total{pid=\"4242\"} 2\n") != NULL);
    cr_assert(strstr(text, "goneshim_handles_managed_total{pid=\"4242\",library=\"mysqlnd\"} 1\n") != NULL);
    for (size_t i = 0; counters_family(i) != NULL; i++) {
        char type[160];
        snprintf(type, sizeof type, "# TYPE %s counter\n", counters_family(i));
        cr_assert(strstr(text, type) != NULL, "%s has no TYPE line", counters_family(i));
    }
    counters_reset();
}

Test(counters, a_short_buffer_is_cut_and_terminated)
{
    char small[64];
    size_t n = counters_render(small, sizeof small, 1, 1);
    cr_assert_eq(n, sizeof small - 1);
    cr_assert_eq(small[sizeof small - 1], '\0');
}

Test(counters, readme_documents_every_counter)
{
    const char *readme = readme_text();
    for (size_t i = 0; counters_family(i) != NULL; i++) {
        char row[160];
        snprintf(row, sizeof row, "| `%s` |", counters_family(i));
        cr_assert(strstr(readme, row) != NULL, "README.md lacks the table row starting %s", row);
    }
}
