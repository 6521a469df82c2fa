/* server_profile.c - see server_profile.h. */
#include "server_profile.h"

#include <stdbool.h>
#include <string.h>

/* Reads "major.minor.patch" at *p; false if it is not there. */
static bool read_version(const char **p, unsigned *version)
{
    unsigned part[3] = {0, 0, 0};
    const char *s = *p;
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned n = 0;
        while (*s >= '0' && *s <= '9' && n < 1000)
            n = n * 10 + (unsigned)(*s++ - '0');
        if (n >= 100)
            return false;
        part[i] = n;
        if (i < 2 && *s++ != '.')
            return false;
    }
    *version = part[0] * 10000 + part[1] * 100 + part[2];
    *p = s;
    return true;
}

void server_profile_from_version(const char *version, struct server_profile *out)
{
    out->flavour = SERVER_UNKNOWN;
    out->version = 0;
    if (version == NULL)
        return;
    const char *p = version;
    bool mariadb = strstr(version, "MariaDB") != NULL;
    /* MariaDB 10 and later announce themselves as "5.5.5-10.x.y-MariaDB"
     * to old replicas; some client libraries strip the prefix, some do
     * not. */
    if (mariadb && strncmp(p, "5.5.5-", 6) == 0)
        p += 6;
    unsigned v;
    if (!read_version(&p, &v))
        return;
    out->flavour = mariadb ? SERVER_MARIADB : SERVER_MYSQL;
    out->version = v;
}
