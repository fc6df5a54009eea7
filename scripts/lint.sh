#!/bin/sh
# lint.sh: STYLE.md habit 4 — each I/O header stays in its own files.
cd "$(dirname "$0")/.." || exit 1
status=0
check() {	# check HEADER ALLOWED-REGEX
	bad=$(grep -l "#include <$1>" lib/*.c lib/*.h cgi/*.c 2>/dev/null |
	    grep -Ev "$2")
	if [ -n "$bad" ]; then
		echo "lint: <$1> outside its module:" $bad >&2
		status=1
	fi
}
check fcgiapp.h '^cgi/'
check sqlite3.h '^lib/(db|store|outbox)[a-z_]*\.[ch]$'
check librdkafka/rdkafka.h '^lib/publisher[a-z_]*\.[ch]$'
check jwt.h '^lib/auth[a-z_]*\.[ch]$'
if grep -n '\bexit *(' lib/*.c >/dev/null 2>&1; then
	echo "lint: lib/ must not exit():" $(grep -ln '\bexit *(' lib/*.c) >&2
	status=1
fi
exit $status
