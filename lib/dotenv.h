/* dotenv.h: reads a .env file of KEY=VALUE lines into memory. */
#ifndef MSGCMD_DOTENV_H
#define MSGCMD_DOTENV_H

#include <stddef.h>

struct dotenv;

/* Reads path.  Lines: blank, "# comment", or "[export ]KEY=VALUE" where
 * VALUE is bare (trimmed, a " #" starts a comment), 'single-quoted'
 * (literal) or "double-quoted" (\n, \", \\ escapes).  A missing file is
 * an error only when required; otherwise *out is an empty set.  Returns
 * 0, or -1 with "path:line: reason" in errstr.  Free with dotenv_free(). */
int dotenv_load(struct dotenv **out, const char *path, int required,
    char *errstr, size_t errstr_size);

/* Returns the value of key, or NULL; owned by de. */
const char *dotenv_get(const struct dotenv *de, const char *key);

void dotenv_free(struct dotenv *de);

#endif
