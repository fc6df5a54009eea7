/* decide.h: the domain rules, pure.  Who may do what to a conversation,
 * given its current state.  No I/O, no HTTP: refusals are domain words
 * that problem.c maps to statuses. */
#ifndef MSGCMD_DECIDE_H
#define MSGCMD_DECIDE_H

enum command_kind {
	CMD_CREATE,	/* userCreatedConversation */
	CMD_SEND,	/* userSentMessageToConversation */
	CMD_ADD,	/* userAddedParticipantToConversation */
	CMD_REMOVE,	/* userRemovedParticipantToConversation */
	CMD_DELETE,	/* userDeletedConversation */
	CMD__MAX
};

enum refusal {
	REFUSE_NONE = 0,
	REFUSE_NOT_FOUND,	/* no such conversation, or it was deleted */
	REFUSE_NOT_OWNER,	/* only the owner may do this */
	REFUSE_NOT_MEMBER,	/* only members may do this */
	REFUSE_ALREADY_MEMBER,	/* add: the participant is a member already */
	REFUSE_NOT_PARTICIPANT,	/* remove: the participant is not a member */
	REFUSE_OWNER_STAYS,	/* remove: the owner cannot be removed */
	REFUSE__MAX
};

/* What the store knows about one conversation, from the point of view of
 * one actor and (for add/remove) one participant. */
struct conv_state {
	int exists;			/* a row exists (even if deleted) */
	int deleted;
	int actor_is_owner;
	int actor_is_member;
	int participant_is_member;	/* add/remove only */
	int participant_is_owner;	/* remove only */
};

/* Returns REFUSE_NONE when kind may be applied to st, else the reason.
 * CMD_CREATE never refuses (st is ignored and may be NULL). */
enum refusal decide(enum command_kind kind, const struct conv_state *st);

/* Returns the event name of kind ("userCreatedConversation", ...). */
const char *decide_event_name(enum command_kind kind);

#endif
