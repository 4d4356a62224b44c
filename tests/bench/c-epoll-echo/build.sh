#!/bin/sh
# Builds the C reference servers and load client with the system C compiler, into this folder's bin/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/bin"
cc -O2 -Wall -Wextra -Werror -o "$here/bin/epoll_echo" "$here/epoll_echo.c"
cc -O2 -Wall -Wextra -Werror -o "$here/bin/echo_load" "$here/../c-load-client/echo_load.c"
echo "built $here/bin/epoll_echo and $here/bin/echo_load"
