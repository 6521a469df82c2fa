/* text.h - bounded copies of NUL-terminated text into fixed buffers (error
 * messages, SQLSTATEs): always terminated, truncated when too long, never
 * failing. */
#ifndef GONESHIM_TEXT_H
#define GONESHIM_TEXT_H

#include <stddef.h>
#include <string.h>

static inline void text_copy(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return;
    size_t n = src != NULL ? strnlen(src, size - 1) : 0;
    memcpy(dst, src != NULL ? src : "", n);
    dst[n] = '\0';
}

#endif
