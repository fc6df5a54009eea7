/* dotenv.c: a small, strict .env reader; every error names path:line. */
#include "dotenv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dotenv_pair {
	char *key;
	char *value;
};

struct dotenv {
	struct dotenv_pair *pairs;
	size_t n, cap;
};

static char *dotenv_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Unquotes v in place.  Returns NULL on an unterminated quote. */
static char *dotenv_unquote(char *v)
{
	char q = *v, *w, *r;
	if (q != '"' && q != '\'') {
		char *hash = strstr(v, " #");
		if (hash)
			*hash = '\0';
		return dotenv_trim(v);
	}
	for (w = v, r = v + 1; *r && *r != q; r++) {
		if (q == '"' && *r == '\\' && r[1]) {
			r++;
			*w++ = (char)(*r == 'n' ? '\n' : *r);
		} else {
			*w++ = *r;
		}
	}
	if (*r != q || *dotenv_trim(r + 1) != '\0')
		return NULL;
	*w = '\0';
	return v;
}

static int dotenv_valid_key(const char *k)
{
	if (!*k || isdigit((unsigned char)*k))
		return 0;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && *k != '_')
			return 0;
	return 1;
}

static int dotenv_add(struct dotenv *de, const char *k, const char *v)
{
	if (de->n == de->cap) {
		size_t cap = de->cap ? de->cap * 2 : 16;
		void *p = realloc(de->pairs, cap * sizeof *de->pairs);
		if (!p)
			return -1;
		de->pairs = p;
		de->cap = cap;
	}
	de->pairs[de->n].key = strdup(k);
	de->pairs[de->n].value = strdup(v);
	de->n++;
	return de->pairs[de->n - 1].key && de->pairs[de->n - 1].value ? 0 : -1;
}

/* Parses one line; returns NULL or a static reason. */
static const char *dotenv_line(struct dotenv *de, char *line)
{
	char *s = dotenv_trim(line), *eq, *v;
	if (*s == '\0' || *s == '#')
		return NULL;
	if (strncmp(s, "export ", 7) == 0)
		s = dotenv_trim(s + 7);
	if (!(eq = strchr(s, '=')))
		return "expected KEY=VALUE";
	*eq = '\0';
	if (!dotenv_valid_key(dotenv_trim(s)))
		return "invalid variable name";
	if (!(v = dotenv_unquote(dotenv_trim(eq + 1))))
		return "unterminated or trailing text after quoted value";
	return dotenv_add(de, dotenv_trim(s), v) ? "out of memory" : NULL;
}

int dotenv_load(struct dotenv **out, const char *path, int required,
    char *errstr, size_t errstr_size)
{
	struct dotenv *de = calloc(1, sizeof *de);
	char line[8192];
	const char *why = NULL;
	int lineno = 0;

	*out = NULL;
	if (!de) {
		snprintf(errstr, errstr_size, "%s: out of memory", path);
		return -1;
	}
	FILE *f = fopen(path, "re");
	if (!f && (required || errno != ENOENT)) {
		snprintf(errstr, errstr_size, "ENV_FILE: %s: %s", path,
		    strerror(errno));
		free(de);
		return -1;
	}
	while (f && !why && fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f))
			why = "line too long";
		else
			why = dotenv_line(de, line);
	}
	if (f)
		(void)fclose(f);	/* read-only: a failing close loses nothing */
	if (why) {
		snprintf(errstr, errstr_size, "%s:%d: %s", path, lineno, why);
		dotenv_free(de);
		return -1;
	}
	*out = de;
	return 0;
}

const char *dotenv_get(const struct dotenv *de, const char *key)
{
	/* Later lines win, as when a shell sources the file. */
	for (size_t i = de ? de->n : 0; i-- > 0;)
		if (strcmp(de->pairs[i].key, key) == 0)
			return de->pairs[i].value;
	return NULL;
}

void dotenv_free(struct dotenv *de)
{
	if (!de)
		return;
	for (size_t i = 0; i < de->n; i++) {
		free(de->pairs[i].key);
		free(de->pairs[i].value);
	}
	free(de->pairs);
	free(de);
}
