/* shard.c: a conversation id's shard, from its first hex digit. */
#include "shard.h"

static const char shard_hex[] = "0123456789abcdef";

static int shard_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int shard_valid(int index, int count)
{
	return count >= 1 && count <= SHARD_MAX && index >= 0 && index < count;
}

int shard_of(const char *id, int count)
{
	int d = id ? shard_digit(id[0]) : -1;

	if (d < 0 || !shard_valid(0, count))
		return -1;
	return d % count;
}

int shard_stamp(char *id, int index, int count)
{
	int d = id ? shard_digit(id[0]) : -1;
	int choices;

	if (d < 0 || !shard_valid(index, count))
		return -1;
	/* The digits that are index modulo count: index, index + count, ...
	 * The old digit, uniformly random, picks one of them. */
	choices = (SHARD_MAX - 1 - index) / count + 1;
	id[0] = shard_hex[index + count * (d % choices)];
	return 0;
}
