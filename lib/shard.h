/* shard.h: which shard a conversation id belongs to.  The write model may
 * be split over several SQLite files (shards), each with its own
 * responders and publisher; a conversation lives in exactly one of them,
 * named by the first hex digit of its id, so a front end routes a path to
 * the shard with a regular expression and no lookup. */
#ifndef MSGCMD_SHARD_H
#define MSGCMD_SHARD_H

#define SHARD_MAX 16	/* one hex digit */

/* Returns the shard (0..count-1) of conversation id id: its first hex
 * digit modulo count.  Returns -1 when id does not start with a hex digit
 * or count is not in 1..SHARD_MAX. */
int shard_of(const char *id, int count);

/* Rewrites the first hex digit of the UUID id so that shard_of(id, count)
 * is index, keeping as much of that digit's randomness as the shard
 * allows (the UUID's version and variant bits are elsewhere).  Returns 0,
 * or -1 (id left as it was) when index or count is out of range or id
 * does not start with a hex digit. */
int shard_stamp(char *id, int index, int count);

#endif
