# SPDX-License-Identifier: GPL-3.0-or-later
"""xoe's guard of a Tryton server (docs/xoe.md, "The guard of a Tryton server").

    python3 -S tryton_guard.py CODE/usr/bin/trytond OPTIONS...

runs CODE/usr/bin/trytond with OPTIONS as that script runs itself, in this
process (the service's own user), with two changes to the server:

- its WSGI application answers only for the service's own databases, named
  one a line in the file XOE_DATABASES names (xoe writes it, root:USER 0640,
  and rewrites it when the service's databases change; it is read again when
  it changes): a request on /NAME/... (or /avatar/BASE64(NAME)/...) for any
  other NAME gets one fixed answer, whether a database NAME exists or not,
  before trytond sees it (so it opens no connection for it); the listing of
  databases (common.db.list) is refused ([database] list = False);
- each successful authentication (trytond.security.login: common.db.login,
  and the HTTP basic authentication of XML-RPC and JSON-RPC, checked on each
  request; trytond.security.check: a session's request, the clients') sets
  the modification time of the file XOE_LAST_USE names to now (at most once a
  second), which `xoe monitor` reads as the last use of the service.

Bad use (no trytond script, a variable missing, an option the guard cannot
keep, --dev or --coroutine) exits 2 with one line on stderr.
"""

import base64
import functools
import logging
import os
import runpy
import sys
import threading
import time

logger = logging.getLogger('xoe.guard')

# The one answer for a database that is not the service's, whatever it is.
REFUSED_STATUS = '404 Not Found'
REFUSED_BODY = b'Not Found\n'
REFUSED_HEADERS = [
    ('Content-Type', 'text/plain; charset=utf-8'),
    ('Content-Length', str(len(REFUSED_BODY))),
    # The request's body is not read: the connection is not reused.
    ('Connection', 'close'),
    ]


def usage(message):
    sys.stderr.write('tryton_guard: %s\n' % message)
    sys.exit(2)


class Databases:
    """The service's databases, from the file xoe writes; read again when it
    changes. A file that cannot be read keeps the names read before (xoe
    replaces it by a rename, then gives it its group); none read yet: no
    database is the service's."""

    def __init__(self, path):
        self.path = path
        self.key = None
        self.names = frozenset()
        self.lock = threading.Lock()
        self.warned = False

    def get(self):
        try:
            st = os.stat(self.path)
        except OSError as e:
            self.warn(e)
            return self.names
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self.lock:
            if key != self.key:
                try:
                    with open(self.path, encoding='utf-8') as f:
                        names = frozenset(
                            line.strip() for line in f if line.strip())
                except (OSError, ValueError) as e:
                    self.warn(e)
                    return self.names
                self.names, self.key, self.warned = names, key, False
            return self.names

    def warn(self, error):
        if not self.warned:
            self.warned = True
            logger.warning('the databases of this service are not known '
                '(%s): the last ones read are served', error.strerror
                if isinstance(error, OSError) else error)


class LastUse:
    """Sets the modification time of a file to now, at most once a second."""

    def __init__(self, path):
        self.path = path
        self.at = 0.0

    def note(self):
        now = time.time()
        if now - self.at < 1:
            return
        self.at = now
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
                | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
            try:
                os.utime(fd)
            finally:
                os.close(fd)
        except OSError as e:
            logger.warning('the last use is not recorded: %s', e.strerror)


def database_of(path):
    """The database a request's PATH_INFO names (a str) or None (the root:
    common.server.version, common.db.list). Raises ValueError when it names
    one that cannot be a name."""
    parts = [p for p in path.split('/') if p]
    if not parts:
        return None
    # PATH_INFO is the URL's bytes as latin-1 (PEP 3333).
    first = parts[0].encode('latin-1').decode('utf-8')
    if first == 'avatar' and len(parts) >= 2:
        # trytond's /avatar/<base64:database_name>/<uuid> (6.0 and later)
        return base64.urlsafe_b64decode(
            parts[1].encode('latin-1')).decode('utf-8')
    return first


class Guard:
    """The WSGI application: the service's databases pass, the others get the
    fixed answer."""

    def __init__(self, application, databases):
        self.application = application
        self.databases = databases

    def __call__(self, environ, start_response):
        try:
            name = database_of(environ.get('PATH_INFO', ''))
        except ValueError:
            name = ''
        if name is not None and name not in self.databases.get():
            start_response(REFUSED_STATUS, list(REFUSED_HEADERS))
            return [REFUSED_BODY]
        return self.application(environ, start_response)


def record_authentications(last_use):
    """Wraps trytond.security's login and check (called through the module
    by trytond's dispatcher and request wrappers in 5.0, 6.0 and 7.0)."""
    from trytond import security

    def recording(function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            if result:
                last_use.note()
            return result
        return wrapper
    security.login = recording(security.login)
    security.check = recording(security.check)


def main():
    if len(sys.argv) < 2 or not os.path.isfile(sys.argv[1]):
        usage('give the path of trytond\'s bin/trytond, then its options')
    databases_file = os.environ.get('XOE_DATABASES', '')
    last_use_file = os.environ.get('XOE_LAST_USE', '')
    if not databases_file or not last_use_file:
        usage('XOE_DATABASES and XOE_LAST_USE must name files')
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    # As the script run directly would have it: its folder first.
    sys.path[0] = os.path.dirname(os.path.abspath(script))

    # The options that would run the server without the guard: a reloader
    # child (--dev runs bin/trytond again), gevent's server (--coroutine).
    import trytond.commandline as commandline
    options = commandline.get_parser_daemon().parse_args(sys.argv[1:])
    if getattr(options, 'dev', False) or getattr(options, 'coroutine', False):
        usage('--dev and --coroutine are not served through the guard')

    databases = Databases(databases_file)
    last_use = LastUse(last_use_file)
    import werkzeug.serving
    run_simple = werkzeug.serving.run_simple

    # bin/trytond calls run_simple once trytond is configured and imported.
    def guarded_run_simple(hostname, port, application, *args, **kwargs):
        from trytond.config import config
        config.set('database', 'list', 'False')
        record_authentications(last_use)
        return run_simple(
            hostname, port, Guard(application, databases), *args, **kwargs)
    werkzeug.serving.run_simple = guarded_run_simple
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
