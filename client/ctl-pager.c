/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl-pager.h"

static pid_t pager_pid = 0;
static int saved_stdout = -1;

static const char *pager_command(void) {
        const char *e = getenv("SYSTEMD_PAGER");

        if (!e)
                e = getenv("PAGER");
        return e;
}

static void exec_pager(const char *command) {
        const char *less = getenv("SYSTEMD_LESS");

        /* F: quit when it fits; R: colours; S: chop long lines (tables
         * are cut to the terminal already); X: leave the screen as is;
         * M: verbose prompt; K: Ctrl-C quits. */
        (void) setenv("LESS", less ?: "FRSXMK", less != NULL);
        if (command) {
                execl("/bin/sh", "sh", "-c", command, (char *) NULL);
                _exit(EXIT_FAILURE);
        }
        execlp("less", "less", (char *) NULL);
        execlp("more", "more", (char *) NULL);
        /* No pager: copy through, the output must not be lost. */
        execlp("cat", "cat", (char *) NULL);
        _exit(EXIT_FAILURE);
}

int ctl_pager_open(void) {
        const char *command = pager_command();
        int fds[2];
        pid_t pid;

        if (pager_pid > 0 || !isatty(STDOUT_FILENO))
                return 0;
        if (command && (!*command || strcmp(command, "cat") == 0))
                return 0;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        pid = fork();
        if (pid < 0) {
                int r = -errno;

                close(fds[0]);
                close(fds[1]);
                return r;
        }
        if (pid == 0) {
                /* The pager outlives no client: when we die, it does too. */
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                close(fds[0]);
                close(fds[1]);
                exec_pager(command);
        }

        saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                int r = -errno;

                close(fds[0]);
                close(fds[1]);
                kill(pid, SIGTERM);
                (void) waitpid(pid, NULL, 0);
                return r;
        }
        close(fds[0]);
        close(fds[1]);
        pager_pid = pid;
        return 0;
}

void ctl_pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        /* EOF for the pager; stdout goes back to the terminal. */
        if (saved_stdout >= 0) {
                (void) dup2(saved_stdout, STDOUT_FILENO);
                close(saved_stdout);
                saved_stdout = -1;
        } else
                close(STDOUT_FILENO);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}
