<?php
/* PHP 8.4 deprecates mysqli::ping() and mysqli::kill() (both still work);
 * the workers of the field call them, so the tests keep calling them and
 * let only that notice pass. Any other deprecation is still a failure. */
declare(strict_types=1);

function deprecated_yet_tested(int $level, string $message): bool
{
    return $level === E_DEPRECATED &&
        preg_match('/^(Method mysqli::(ping|kill)\(\)|Function mysqli_(ping|kill)\(\)) is deprecated/', $message) === 1;
}
