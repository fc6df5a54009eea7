/* decide.c: the domain rules, one table row per command kind. */
#include "decide.h"

#include <stddef.h>

/* The refusals a REMOVE can meet about its participant.  The owner check
 * comes first because the owner is also a member. */
static enum refusal decide_remove_participant(const struct conv_state *st)
{
	if (st->participant_is_owner)
		return REFUSE_OWNER_STAYS;
	if (!st->participant_is_member)
		return REFUSE_NOT_PARTICIPANT;
	return REFUSE_NONE;
}

static enum refusal decide_add_participant(const struct conv_state *st)
{
	return st->participant_is_member ? REFUSE_ALREADY_MEMBER : REFUSE_NONE;
}

enum decide_role { ROLE_ANYONE, ROLE_MEMBER, ROLE_OWNER };

/* One row per command, read left to right: the conversation must be open,
 * the actor must hold the role, then the participant check, if any.  A
 * non-member asking for an owner-only command is told NOT_OWNER: both
 * answers are 403 and the owner is the only one who could have done it. */
static const struct decide_rule {
	const char *event;
	int needs_open;
	enum decide_role role;
	enum refusal (*participant)(const struct conv_state *);
} decide_rules[CMD__MAX] = {
	[CMD_CREATE] = { "userCreatedConversation",
	    0, ROLE_ANYONE, NULL },
	[CMD_SEND]   = { "userSentMessageToConversation",
	    1, ROLE_MEMBER, NULL },
	[CMD_ADD]    = { "userAddedParticipantToConversation",
	    1, ROLE_OWNER, decide_add_participant },
	/* "To", not "From": the name the existing query service consumes. */
	[CMD_REMOVE] = { "userRemovedParticipantToConversation",
	    1, ROLE_OWNER, decide_remove_participant },
	[CMD_DELETE] = { "userDeletedConversation",
	    1, ROLE_OWNER, NULL },
};

static enum refusal decide_role_check(enum decide_role role,
    const struct conv_state *st)
{
	switch (role) {
	case ROLE_MEMBER:
		return st->actor_is_member ? REFUSE_NONE : REFUSE_NOT_MEMBER;
	case ROLE_OWNER:
		return st->actor_is_owner ? REFUSE_NONE : REFUSE_NOT_OWNER;
	default:
		return REFUSE_NONE;
	}
}

enum refusal decide(enum command_kind kind, const struct conv_state *st)
{
	const struct decide_rule *r;
	enum refusal why;

	/* An unknown kind refers to nothing we know: NOT_FOUND, never allow. */
	if ((unsigned)kind >= CMD__MAX)
		return REFUSE_NOT_FOUND;
	r = &decide_rules[kind];
	if (!r->needs_open)
		return REFUSE_NONE;
	if (st == NULL || !st->exists || st->deleted)
		return REFUSE_NOT_FOUND;
	why = decide_role_check(r->role, st);
	if (why == REFUSE_NONE && r->participant != NULL)
		why = r->participant(st);
	return why;
}

const char *decide_event_name(enum command_kind kind)
{
	if ((unsigned)kind >= CMD__MAX)
		return "unknown";
	return decide_rules[kind].event;
}
