/*
 * jobs.c - a small pool of threads for batch work (batch issuance, bulk
 * checks): the caller starts a job of n independent items, does its own
 * serial work meanwhile, then waits, helping with the items that are left.
 * With one job there are no threads at all: the caller runs every item, in
 * order, when it waits.
 *
 * The helpers block every signal: a signal meant for the program (SIGINT,
 * SIGTERM) goes to a thread of the caller, whose handler can ask the
 * batch to stop.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct jcs_pool {
	int jobs;
	pthread_t *threads;
	int n_threads;
	pthread_mutex_t lock;
	pthread_cond_t work;     /* a job started, or stop */
	pthread_cond_t idle;     /* the last item of a job finished */
	void (*fn)(void *arg, size_t i, int worker);
	void *arg;
	size_t n, next, done;
	unsigned long gen;       /* counts jobs, so helpers see a new one */
	int stop;
};

struct helper {
	struct jcs_pool *p;
	int worker;
};

/* Runs items of the current job until none is left to take; called with
 * the lock held, returns with it held. */
static void
run_items(struct jcs_pool *p, int worker)
{
	while (p->fn != NULL && p->next < p->n) {
		size_t i = p->next++;

		pthread_mutex_unlock(&p->lock);
		p->fn(p->arg, i, worker);
		pthread_mutex_lock(&p->lock);
		if (++p->done == p->n)
			pthread_cond_broadcast(&p->idle);
	}
}

static void *
helper_main(void *arg)
{
	struct helper h = *(struct helper *)arg;
	struct jcs_pool *p = h.p;
	unsigned long seen = 0;

	free(arg);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stop && p->gen == seen)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop)
			break;
		seen = p->gen;
		run_items(p, h.worker);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
jcs_jobs_max(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	if (n > 64)
		n = 64;
	return (int)n * 4;
}

struct jcs_pool *
jcs_pool_new(jcs_ctx *ctx, int jobs)
{
	struct jcs_pool *p;
	sigset_t all, old;

	if (jobs < 1 || jobs > jcs_jobs_max()) {
		jcs_fail(ctx, JCS_ERR_INVALID_ARG, "jobs must be 1 to %d (4 "
		    "per processor), not %d", jcs_jobs_max(), jobs);
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->threads = calloc((size_t)jobs, sizeof(*p->threads))) ==
	    NULL) {
		free(p);
		jcs_fail(ctx, JCS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	p->jobs = jobs;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	/* the helpers inherit this mask: every signal blocked */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 1; i < jobs; i++) {
		struct helper *h = malloc(sizeof(*h));
		int e;

		if (h == NULL) {
			e = ENOMEM;
		} else {
			h->p = p;
			h->worker = i;
			e = pthread_create(&p->threads[p->n_threads], NULL,
			    helper_main, h);
		}
		if (e != 0) {
			free(h);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			jcs_pool_free(p);
			jcs_fail(ctx, JCS_ERR_NOMEM, "cannot start a thread: "
			    "%s", strerror(e));
			return NULL;
		}
		p->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return p;
}

void
jcs_pool_free(struct jcs_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	free(p->threads);
	free(p);
}

int
jcs_pool_jobs(const struct jcs_pool *p)
{
	return p != NULL ? p->jobs : 1;
}

void
jcs_pool_start(struct jcs_pool *p, void (*fn)(void *arg, size_t i,
    int worker), void *arg, size_t n)
{
	pthread_mutex_lock(&p->lock);
	p->fn = fn;
	p->arg = arg;
	p->n = n;
	p->next = 0;
	p->done = 0;
	p->gen++;
	if (n > 0 && p->n_threads > 0)
		pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void
jcs_pool_wait(struct jcs_pool *p)
{
	pthread_mutex_lock(&p->lock);
	run_items(p, 0);
	while (p->done < p->n)
		pthread_cond_wait(&p->idle, &p->lock);
	p->fn = NULL;
	pthread_mutex_unlock(&p->lock);
}
