/* readme_text.h - the README, for the tests that check it documents every
 * variable and counter of the library's tables. */
#ifndef GONESHIM_TEST_README_TEXT_H
#define GONESHIM_TEST_README_TEXT_H

#include <criterion/criterion.h>
#include <stdio.h>

/* The whole README.md (tests run from the repository root). */
static inline const char *readme_text(void)
{
    static char readme[1 << 20];
    FILE *f = fopen("README.md", "r");
    cr_assert_not_null(f, "run from the repository root");
    size_t n = fread(readme, 1, sizeof readme - 1, f);
    readme[n] = '\0';
    fclose(f);
    return readme;
}

#endif
