/* Linux and glibc interfaces that the Swift Glibc module does not include. */
#include <malloc.h>    /* malloc_trim: HostSystem.FreedMemory */
#include <sys/epoll.h> /* epoll(7): the health checks watch their sockets with it */
