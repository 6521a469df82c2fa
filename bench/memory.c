/* memory.c - what goneshim costs in memory: bytes of state per handle,
 * and whether the process grows over many connect/query/close cycles.
 *
 * usage: memory --handles N --cycles M
 * 1. N handles connected at once (over the socket), each after one
 *    SELECT 1: the heap in use (mallinfo2: arena and mmap'ed blocks)
 *    before and after, divided by N. bench/run runs this with and
 *    without goneshim; the difference is the shim's state per handle.
 * 2. M cycles of connect, SELECT 1, close, one handle at a time: VmRSS
 *    and the heap in use, sampled ten times. Flat means nothing is kept
 *    per closed handle.
 * Prints:
 *   handles=N heap_bytes_per_handle=B
 *   cycles=M rss_kib_first=.. rss_kib_last=.. rss_kib_max=.. heap_first=.. heap_last=..
 *   rss_kib_samples=a,b,c,...
 */
#include <malloc.h>

#include "bench_util.h"

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    if (f != NULL)
        fclose(f);
    return kib;
}

static MYSQL *open_handle(void)
{
    MYSQL *m = mysql_init(NULL);
    if (m == NULL || !connect_app(m, OVER_SOCKET) || !select_one(m))
        die("connect: %s", m ? mysql_error(m) : "out of memory");
    return m;
}

int main(int argc, char **argv)
{
    bench_prog = "memory";
    long handles = 1000, cycles = 100000;
    const struct option_spec options[] = {{"--handles", &handles, 1, 2500},
                                          {"--cycles", &cycles, 10, 100000000L},
                                          {NULL, NULL, 0, 0}};
    parse_options(argc, argv, NULL, options, "memory --handles N --cycles M");
    if (mysql_library_init(0, NULL, NULL) != 0)
        die("mysql_library_init failed");
    /* One handle first, so that one-time allocations (the library's and
     * the shim's) are not counted per handle. */
    MYSQL *first = open_handle();
    MYSQL **m = calloc((size_t)handles, sizeof *m);
    if (m == NULL)
        die("out of memory");

    size_t before = heap_in_use();
    for (long i = 0; i < handles; i++)
        m[i] = open_handle();
    size_t after = heap_in_use();
    printf("handles=%ld heap_bytes_per_handle=%.0f\n", handles, (double)(after - before) / (double)handles);
    for (long i = 0; i < handles; i++)
        mysql_close(m[i]);
    free(m);

    enum { SAMPLES = 10 };
    long rss[SAMPLES + 1];
    size_t heap[SAMPLES + 1];
    int n = 0;
    rss[n] = rss_kib();
    heap[n++] = heap_in_use();
    for (long c = 1; c <= cycles; c++) {
        mysql_close(open_handle());
        if (c % (cycles / SAMPLES) == 0 && n <= SAMPLES) {
            rss[n] = rss_kib();
            heap[n++] = heap_in_use();
        }
    }
    long max = 0;
    for (int i = 0; i < n; i++)
        max = rss[i] > max ? rss[i] : max;
    printf("cycles=%ld rss_kib_first=%ld rss_kib_last=%ld rss_kib_max=%ld heap_first=%zu heap_last=%zu\n", cycles,
           rss[0], rss[n - 1], max, heap[0], heap[n - 1]);
    printf("rss_kib_samples=");
    for (int i = 0; i < n; i++)
        printf("%s%ld", i ? "," : "", rss[i]);
    printf("\n");
    mysql_close(first);
    return 0;
}
