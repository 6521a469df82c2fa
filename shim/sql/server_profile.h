/* server_profile.h - which server a connection talks to, as far as the SQL
 * it accepts is concerned: MariaDB or MySQL, and which version. Read from
 * the version string of the handshake. */
#ifndef GONESHIM_SERVER_PROFILE_H
#define GONESHIM_SERVER_PROFILE_H

enum server_flavour {
    SERVER_UNKNOWN = 0, /* no name is taken for a builtin */
    SERVER_MARIADB,
    SERVER_MYSQL, /* Oracle MySQL and servers that report its version (Percona) */
};

struct server_profile {
    enum server_flavour flavour;
    unsigned version; /* major * 10000 + minor * 100 + patch: 101119, 90704 */
};

/* "10.11.19-MariaDB-0+deb12u1", "5.5.5-10.11.19-MariaDB" (the replication
 * prefix of MariaDB 10), "9.7.4", "8.0.36-0ubuntu0.22.04.1". Anything else
 * (NULL, no version number) is SERVER_UNKNOWN. */
void server_profile_from_version(const char *version, struct server_profile *out);

#endif
