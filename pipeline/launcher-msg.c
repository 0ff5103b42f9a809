/* cordon — the launcher's messages (launcher.h), both ends. */
#define _GNU_SOURCE

#include "launcher.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void
cordon_launcher_send (int sock, const CordonLauncherMsg *m, const int *fds, int n)
{
  struct iovec iov = { (void *) m, sizeof *m };
  union { char buf[CMSG_SPACE (3 * sizeof (int))]; struct cmsghdr align; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  if (n > 0) {
    msg.msg_control = u.buf;
    msg.msg_controllen = CMSG_SPACE (n * sizeof (int));
    struct cmsghdr *c = CMSG_FIRSTHDR (&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN (n * sizeof (int));
    memcpy (CMSG_DATA (c), fds, n * sizeof (int));
  }
  sendmsg (sock, &msg, MSG_NOSIGNAL);
}

ssize_t
cordon_launcher_recv (int sock, CordonLauncherMsg *m, int *fds)
{
  struct iovec iov = { m, sizeof *m };
  union { char buf[CMSG_SPACE (3 * sizeof (int))]; struct cmsghdr align; } u;
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
  fds[0] = fds[1] = fds[2] = -1;
  ssize_t n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0)
    return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c; c = CMSG_NXTHDR (&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int k = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      for (int i = 0; i < k; i++) {
        int fd;
        memcpy (&fd, CMSG_DATA (c) + i * sizeof (int), sizeof fd);
        if (i < 3)
          fds[i] = fd;
        else
          close (fd);
      }
    }
  return n;
}
