/* goneshim compat probe (not an upstream test), built and run exactly like
 * the Connector/C unit tests by tests/compat/run-compat: is goneshim loaded
 * in this process, and what does a killed idle connection do? Writes its
 * findings to $COMPAT_PROBE_OUT and prints TAP. */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *env(const char *name, const char *dflt)
{
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

static MYSQL *open_conn(void)
{
  MYSQL *m = mysql_init(NULL);
  if (!mysql_real_connect(m, env("MYSQL_TEST_HOST", "127.0.0.1"), env("MYSQL_TEST_USER", "root"),
                          env("MYSQL_TEST_PASSWD", ""), env("MYSQL_TEST_DB", "test"),
                          (unsigned)atoi(env("MYSQL_TEST_PORT", "0")), env("MYSQL_TEST_SOCKET", NULL), 0)) {
    fprintf(stderr, "connect: %s\n", mysql_error(m));
    exit(1);
  }
  return m;
}

int main(void)
{
  char line[512], q[64];
  int loaded = 0;
  FILE *maps = fopen("/proc/self/maps", "r");
  while (maps && fgets(line, sizeof line, maps))
    if (strstr(line, "libgoneshim"))
      loaded = 1;
  if (maps)
    fclose(maps);

  MYSQL *admin = open_conn(), *a = open_conn();
  snprintf(q, sizeof q, "KILL CONNECTION %lu", mysql_thread_id(a));
  if (mysql_query(admin, q))
    fprintf(stderr, "kill: %s\n", mysql_error(admin));
  usleep(300000);
  int rc = mysql_query(a, "SELECT 1");
  unsigned err = rc ? mysql_errno(a) : 0;
  if (!rc)
    mysql_free_result(mysql_store_result(a));

  FILE *o = fopen(env("COMPAT_PROBE_OUT", "/dev/null"), "w");
  if (o) {
    fprintf(o, "loaded=%s\nclient=libmariadb %s\n", loaded ? "yes" : "no", mysql_get_client_info());
    if (rc)
      fprintf(o, "after_kill=error %u\n", err);
    else
      fprintf(o, "after_kill=ok\n");
    fclose(o);
  }
  printf("1..1\nok 1 - probe\n");
  mysql_close(a);
  mysql_close(admin);
  return 0;
}
