/* manual_sections.c - the manual pages' generated sections, from the one
 * table of variables (shim/runtime/config.c) and the one table of counters
 * (shim/runtime/counters.c): the pages cannot drift from what the library
 * parses and writes. (The README's tables and the launcher's --help are
 * checked against the same tables by tests.)
 *
 * usage: manual_sections variables|counters  (troff on stdout)
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "counters.h"

/* troff: a backslash is doubled, a leading dot or quote escaped. */
static void text(const char *s)
{
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '\\')
            fputs("\\e", stdout);
        else if (*p == '-')
            fputs("\\-", stdout);
        else if ((*p == '.' || *p == '\'') && (p == s || p[-1] == '\n'))
            fputs("\\&", stdout), putchar(*p);
        else
            putchar(*p);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "variables") == 0) {
        for (size_t i = 0; i < config_variable_count; i++) {
            const struct config_variable *v = &config_variables[i];
            printf(".TP\n.B %s\n", v->name);
            text(v->meaning);
            printf(".\n.br\nDefault: \\fB");
            text(v->default_text);
            printf("\\fP. Accepted: ");
            text(v->accepted);
            printf(".\n");
        }
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "counters") == 0) {
        static char buf[8192];
        counters_render(buf, sizeof buf, 0, 0);
        for (size_t i = 0; counters_family(i) != NULL; i++) {
            const char *name = counters_family(i);
            char help[256] = "";
            char needle[160];
            snprintf(needle, sizeof needle, "# HELP %s ", name);
            const char *h = strstr(buf, needle);
            if (h != NULL)
                sscanf(h + strlen(needle), "%255[^\n]", help);
            printf(".TP\n.B %s\n", name);
            text(help);
            printf(".\n");
        }
        return 0;
    }
    fprintf(stderr, "usage: manual_sections variables|counters\n");
    return 2;
}
