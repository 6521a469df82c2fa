/* fake_mysqlnd_version.c - preloaded ahead of goneshim, it answers a PHP
 * version goneshim was not built for (7.4.0), to test that goneshim then
 * leaves PHP alone. */
unsigned long mysqlnd_get_client_version(void);

unsigned long mysqlnd_get_client_version(void)
{
    return 70400;
}
