/* fuzz_http.c - jcstar serve's request handling: raw bytes from a client,
 * parsed by libmicrohttpd and handled by the command's own code (routes,
 * path checks for the page, the verify API's query and body parsers, the
 * JSON answers). Each input is one connection: the bytes are written into
 * a socket pair handed to the daemon with MHD_add_connection, and the
 * daemon runs until it has answered and closed it.
 *
 * The command's file is included, so that its static server state can be
 * set up as `jcstar serve --trust tests/vectors/trust-p256.pem --web web`
 * would; the other command files are linked with main() renamed. */
#include <fcntl.h>
#include <sys/socket.h>

/* the harness needs the command's static server state and handlers */
#include "../../cli/cmd_serve.c" /* NOLINT(bugprone-suspicious-include) */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct MHD_Daemon *daemon_;

static void
setup(void)
{
	jcs_ctx *ctx = cli_ctx_new();
	struct trust_ref *t;
	const char *what;
	char path[4096];
	const char *top = getenv("JCSTAR_TOP");

	if (top == NULL)
		top = ".";
	if (mhd_load() == -1)
		abort();
	snprintf(path, sizeof(path), "%s/tests/vectors/trust-p256.pem", top);
	/* the bundle with the default recognition and policy files */
	if (ctx == NULL || (t = trust_load(ctx, path, NULL, NULL, &what)) ==
	    NULL)
		abort();
	trust_install(t);
	srv.trust_path = "trust-p256.pem";
	srv.quiet = 1;
	snprintf(path, sizeof(path), "%s/web", top);
	srv.web_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	jcs_ctx_free(ctx);
	signal(SIGPIPE, SIG_IGN);
	daemon_ = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET,
	    0, NULL, NULL, on_request, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)2,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, NULL,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	if (daemon_ == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer;
	char sink[65536];
	size_t off = 0;
	int sv[2], closed = 0;

	if (daemon_ == NULL)
		setup();
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		abort();
	(void)fcntl(sv[0], F_SETFL, O_NONBLOCK);
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (MHD_add_connection(daemon_, sv[1], (struct sockaddr *)&peer,
	    sizeof(peer)) != MHD_YES)
		abort();
	/* the client writes everything, then half-closes; the daemon runs
	 * until it closes its end (bounded: a stuck connection is a hang) */
	for (int round = 0; round < 20000 && !closed; round++) {
		ssize_t n;

		if (off < size) {
			n = write(sv[0], data + off, size - off);
			if (n > 0)
				off += (size_t)n;
			if (off == size)
				(void)shutdown(sv[0], SHUT_WR);
		} else if (size == 0 && round == 0)
			(void)shutdown(sv[0], SHUT_WR);
		if (MHD_run(daemon_) != MHD_YES)
			abort();
		while ((n = read(sv[0], sink, sizeof(sink))) > 0)
			/* JCSTAR_FUZZ_SHOW=1: print the answers (seeds check) */
			if (getenv("JCSTAR_FUZZ_SHOW") != NULL)
				fwrite(sink, 1, (size_t)n, stdout);
		/* EOF, or an error other than "nothing to read yet" */
		if (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK))
			closed = 1;
	}
	if (!closed)
		abort(); /* the daemon never finished with the connection */
	close(sv[0]);
	return 0;
}
