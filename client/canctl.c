/*
 * canctl: the cand command line. "send" and "dump" speak can-utils' cansend
 * and candump text so existing scripts and canplayer keep working.
 *
 * This file holds main(), the global options and the command table; each
 * command lives in a file of its own and brings its usage lines.
 *
 * Exit status: 0 success, 1 an operation failed, 2 bad usage.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "canctl.h"

extern const struct canctl_cmd canctl_list_cmd, canctl_send_cmd,
	canctl_dump_cmd, canctl_play_cmd, canctl_gen_cmd, canctl_sniff_cmd,
	canctl_busload_cmd, canctl_periodic_cmd, canctl_monitor_cmd,
	canctl_bus_state_cmd, canctl_bus_set_cmd, canctl_bus_restart_cmd,
	canctl_events_cmd, canctl_clients_cmd;
static const struct canctl_cmd canctl_help_cmd;

/* In the order canctl --help shows them. */
static const struct canctl_cmd *const canctl_cmds[] = {
	&canctl_list_cmd,	 /* canctl_list.c */
	&canctl_send_cmd,	 /* canctl_send.c */
	&canctl_dump_cmd,	 /* canctl_dump.c, candump */
	&canctl_play_cmd,	 /* canctl_play.c, canplayer */
	&canctl_gen_cmd,	 /* canctl_gen.c, cangen */
	&canctl_sniff_cmd,	 /* canctl_sniff.c, cansniffer */
	&canctl_busload_cmd,	 /* canctl_busload.c, canbusload */
	&canctl_periodic_cmd,	 /* canctl_periodic.c */
	&canctl_monitor_cmd,	 /* canctl_monitor.c */
	&canctl_bus_state_cmd,	 /* canctl_bus.c */
	&canctl_bus_set_cmd,	 /* canctl_bus.c */
	&canctl_bus_restart_cmd, /* canctl_bus.c */
	&canctl_events_cmd,	 /* canctl_events.c */
	&canctl_clients_cmd,	 /* canctl_clients.c */
	&canctl_help_cmd,	 /* here */
	NULL,
};

/* A command's part of the help: its synopsis, then its lines indented. */
static void canctl_cmd_usage(const struct canctl_cmd *cmd, FILE *fp)
{
	const char *p;
	size_t n;

	fprintf(fp, "  %s%s%s\n", cmd->name, cmd->args[0] != '\0' ? " " : "",
		cmd->args);
	for (p = cmd->help; *p != '\0'; p += n + (p[n] == '\n')) {
		n = strcspn(p, "\n");
		fprintf(fp, "      %.*s\n", (int)n, p);
	}
}

static void canctl_usage(FILE *fp)
{
	size_t i;

	fputs("usage: canctl [-s socket] command [argument ...]\n"
	      "\n"
	      "commands:\n",
	      fp);
	for (i = 0; canctl_cmds[i] != NULL; i++)
		canctl_cmd_usage(canctl_cmds[i], fp);
	fputs("\n"
	      "The socket is -s, else $CAND_SOCKET, else " CAND_DEFAULT_SOCKET
	      ".\n",
	      fp);
}

static int canctl_help(const char *sock, int argc, char **argv)
{
	(void)sock;
	(void)argc;
	(void)argv;
	canctl_usage(stdout);
	return 0;
}

static const struct canctl_cmd canctl_help_cmd = {
	"help",
	"",
	"show this text\n",
	canctl_help,
};

int canctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("canctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	/* The whole usage would bury the message under a page of text. */
	fputs("\n(canctl --help lists the commands, canctl COMMAND --help "
	      "one's options)\n",
	      stderr);
	return 2;
}

/* getopt() told about a bad option; opterr is off so this is the message. */
int canctl_bad_option(int ch, char **argv)
{
	if (ch == ':')
		return canctl_usage_error("option -%c needs a value", optopt);
	/* An unknown long option has no letter; it is the word just read. */
	if (optopt == 0)
		return canctl_usage_error("unknown option '%s'",
					  argv[optind - 1]);
	return canctl_usage_error("unknown option -%c", optopt);
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	size_t i;
	int ch;

	if (argc > 1 && strcmp(argv[1], "--help") == 0)
		return canctl_help(sock, argc, argv);
	opterr = 0;
	/* '+': options after the command belong to the command. */
	while ((ch = getopt(argc, argv, "+:hs:")) != -1) {
		switch (ch) {
		case 'h':
			return canctl_help(sock, argc, argv);
		case 's':
			sock = optarg;
			break;
		default:
			return canctl_bad_option(ch, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		return canctl_usage_error("no command given");
	for (i = 0; canctl_cmds[i] != NULL; i++) {
		if (strcmp(argv[0], canctl_cmds[i]->name) != 0)
			continue;
		/* Each command's own lines of the help. */
		if (argc > 1 && strcmp(argv[1], "--help") == 0) {
			canctl_cmd_usage(canctl_cmds[i], stdout);
			return 0;
		}
		return canctl_cmds[i]->exec(sock, argc, argv);
	}
	return canctl_usage_error("unknown command '%s'", argv[0]);
}
