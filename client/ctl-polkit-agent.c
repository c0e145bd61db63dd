/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* ctl-polkit-agent: pkttyagent as a child for one privileged call. Follows
 * systemd's polkit_agent_open()/polkit_agent_close(): fork, hand the agent
 * the write end of a pipe as --notify-fd, wait until it closes it (it does
 * once it is registered with polkit), make the call, SIGTERM the agent. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "ctl-polkit-agent.h"
#include "vh-log.h"
#include "vh-macro.h"

#define PKTTYAGENT_NAME         "pkttyagent"
/* Where polkit installs it; used when PATH does not have it. */
#define PKTTYAGENT_FALLBACK     "/usr/bin/pkttyagent"
/* The fd number the agent gets for --notify-fd. */
#define AGENT_NOTIFY_FD         3
/* pkttyagent registers in milliseconds; this only bounds a wedged one (polkitd
 * hanging on activation), after which the call goes on without an agent. */
#define AGENT_WAIT_MSEC         (25 * 1000)

static pid_t agent_pid = 0;

/* The first executable pkttyagent in PATH, else the fallback; NULL if none. */
static char *find_agent(void) {
        const char *path = getenv("PATH");

        while (path && *path) {
                size_t n = strcspn(path, ":");
                _cleanup_free_ char *candidate = NULL;

                /* An empty PATH element means the current directory: not for us. */
                if (n > 0 && path[0] == '/') {
                        if (asprintf(&candidate, "%.*s/%s", (int) n, path, PKTTYAGENT_NAME) < 0)
                                return NULL;
                        if (access(candidate, X_OK) == 0)
                                return TAKE_PTR(candidate);
                }
                path += n;
                if (*path == ':')
                        path++;
        }

        return access(PKTTYAGENT_FALLBACK, X_OK) == 0 ? strdup(PKTTYAGENT_FALLBACK) : NULL;
}

static void close_all_from(int first) {
#ifdef SYS_close_range
        if (syscall(SYS_close_range, (unsigned) first, ~0U, 0) == 0)
                return;
#endif
        long max = sysconf(_SC_OPEN_MAX);

        if (max < 0 || max > 65536)
                max = 65536;
        for (int fd = first; fd < max; fd++)
                (void) close(fd);
}

/* --fallback lets a desktop session's own agent go first, as systemd does.
 * But polkit (get_authentication_agent_for_subject()) looks a fallback
 * agent up only through the caller's logind session: for a caller in none
 * (a container, su without pam_systemd) it would never ask it. There the
 * agent registers as the only one for our process. */
static bool in_login_session(void) {
        _cleanup_free_ char *session = NULL;

        return sd_pid_get_session(0, &session) >= 0;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
_noreturn_ static void exec_agent(const char *path, pid_t parent, int notify_fd, bool fallback) {
        char pid_text[32], fd_text[16];
        sigset_t none;

        /* Dies with us, even if we are killed before we can SIGTERM it. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);

        /* Never write into our stdout: with --json it carries the result.
         * The prompt goes to the terminal (pkttyagent reads /dev/tty). */
        if (!isatty(STDOUT_FILENO)) {
                int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);

                if (fd < 0)
                        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                if (fd > STDERR_FILENO)
                        (void) close(fd);
        }

        if (notify_fd == AGENT_NOTIFY_FD) {
                if (fcntl(notify_fd, F_SETFD, 0) < 0)
                        _exit(EXIT_FAILURE);
        } else if (dup2(notify_fd, AGENT_NOTIFY_FD) < 0)
                _exit(EXIT_FAILURE);
        close_all_from(AGENT_NOTIFY_FD + 1);

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);

        snprintf(fd_text, sizeof(fd_text), "%d", AGENT_NOTIFY_FD);
        snprintf(pid_text, sizeof(pid_text), "%d", (int) parent);

        /* --process: the agent serves this process, which polkit finds
         * behind our bus name. */
        if (fallback)
                execl(path, PKTTYAGENT_NAME, "--notify-fd", fd_text, "--fallback", "--process", pid_text, (char *) NULL);
        else
                execl(path, PKTTYAGENT_NAME, "--notify-fd", fd_text, "--process", pid_text, (char *) NULL);
        _exit(EXIT_FAILURE);
}

static int64_t now_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until the agent closes its end (registered, or exited), or the deadline. */
static void wait_for_agent(int fd) {
        int64_t deadline = now_msec() + AGENT_WAIT_MSEC;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int64_t left = deadline - now_msec();
                int r;

                if (left <= 0) {
                        log_debug("The polkit agent did not report back in %d s; going on without waiting.",
                                  AGENT_WAIT_MSEC / 1000);
                        return;
                }

                r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int) left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        log_debug_errno(errno, "Cannot wait for the polkit agent: %m");
                        return;
                }
                if (r == 0)
                        continue;

                if (p.revents & POLLIN) {
                        char buf[64];
                        ssize_t n = read(fd, buf, sizeof(buf));

                        /* Data is no promise; only EOF says it is done. */
                        if (n > 0 || (n < 0 && errno == EINTR))
                                continue;
                }
                return;
        }
}

int ctl_polkit_agent_open(bool ask_password) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int read_fd = -1, write_fd = -1;
        int pipe_fd[2];
        pid_t parent, pid;
        bool fallback;

        if (agent_pid > 0)
                return 0;

        if (!ask_password) {
                log_debug("--no-ask-password: no polkit agent.");
                return 0;
        }
        /* vfiohostd lets root through without asking polkit (systemd#2748). */
        if (geteuid() == 0) {
                log_debug("Running as root: no polkit agent needed.");
                return 0;
        }
        /* Nobody to type a password: polkit answers at once instead. */
        if (!isatty(STDIN_FILENO)) {
                log_debug("stdin is no terminal: no polkit agent.");
                return 0;
        }

        path = find_agent();
        if (!path) {
                log_debug("%s not found in PATH or at %s: no polkit agent.", PKTTYAGENT_NAME, PKTTYAGENT_FALLBACK);
                return 0;
        }

        if (pipe2(pipe_fd, O_CLOEXEC) < 0)
                return log_debug_errno(errno, "Cannot create a pipe for the polkit agent: %m");
        read_fd = pipe_fd[0];
        write_fd = pipe_fd[1];

        /* Before the fork: sd-login allocates. */
        fallback = in_login_session();
        parent = getpid();
        pid = fork();
        if (pid < 0)
                return log_debug_errno(errno, "Cannot fork the polkit agent: %m");
        if (pid == 0)
                exec_agent(path, parent, write_fd, fallback);

        agent_pid = pid;
        log_debug("Started polkit agent %s (PID %d) for PID %d%s.", path, (int) pid, (int) parent,
                  fallback ? ", as fallback to the session's agent" : " (no login session: sole agent)");

        /* Only the agent may hold the write end, or we would never see EOF. */
        close(TAKE_FD(write_fd));
        wait_for_agent(read_fd);
        log_debug("Polkit agent PID %d is ready.", (int) pid);

        return 1;
}

void ctl_polkit_agent_close(void) {
        pid_t pid = agent_pid;

        if (pid <= 0)
                return;
        agent_pid = 0;

        /* SIGCONT too, in case it was stopped (systemd's sigterm_wait()). */
        (void) kill(pid, SIGTERM);
        (void) kill(pid, SIGCONT);

        while (waitpid(pid, NULL, 0) < 0)
                if (errno != EINTR) {
                        log_debug_errno(errno, "Cannot reap the polkit agent PID %d: %m", (int) pid);
                        return;
                }
        log_debug("Stopped polkit agent PID %d.", (int) pid);
}
