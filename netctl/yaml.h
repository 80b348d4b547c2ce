/* `-o yaml`: JSON values (jansson) written as block-style YAML.  A small emitter of our own rather
 * than libyaml: libyaml's emitter writes a string plain whenever the syntax allows it, so the
 * strings "true", "0123" or "1:20" would come back from a reader as a boolean or a number; the
 * part that needs care (which strings a YAML 1.1 or 1.2 reader would type) has to be ours either
 * way, and netctl keeps linking only libc and jansson. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* One YAML document (no "---" line) that YAML 1.1 and 1.2 readers load back as the same JSON
 * value: strings stay strings, numbers numbers.  Empty objects and arrays are written {} and [].
 * Returns 0 or -EIO. */
int netctl_yaml_dump(const json_t *value, FILE *out);

/* Can the string be written as a plain (unquoted) scalar?  Only printable ASCII that no YAML 1.1
 * or 1.2 reader would take for null, a boolean, a number, a timestamp or syntax; anything in doubt
 * is double-quoted.  Exposed for the unit tests. */
bool netctl_yaml_plain_ok(const char *s, size_t len);
