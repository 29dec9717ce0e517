/* epoll(7), which Glibc's Swift module does not include: the health checks watch their sockets with it. */
#include <sys/epoll.h>
