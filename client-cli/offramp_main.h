/*
 * offramp_main.h: the whole command line as a function (main.c), which
 * the offramp binary's main() calls, and so does the tests' cli_zygote
 * in a process forked for each command (tests/tools/cli_zygote.c).
 */
#ifndef OFFRAMP_MAIN_H
#define OFFRAMP_MAIN_H

/* Runs the command line argv; returns the process's exit status. */
int offramp_main(int argc, char **argv);

#endif
