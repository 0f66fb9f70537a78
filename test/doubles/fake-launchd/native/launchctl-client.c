/*
 * The fake launchctl as a native program: the real launchctl answers in a few milliseconds, and
 * a client that takes tens would make benchmarks of esdctl measure the double. It forwards argv
 * to the fake launchd whose socket sits next to this executable (launchd.sock in the state dir),
 * and prints and exits exactly as the reply says (framed: exit, stdout length, stdout, stderr
 * length, stderr).
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Reads a decimal number ending in '\n' at *pos; -1 when the reply is malformed. */
static long number_at(const char *buf, size_t len, size_t *pos) {
  long v = 0;
  int digits = 0;
  while (*pos < len && buf[*pos] >= '0' && buf[*pos] <= '9') v = v * 10 + (buf[(*pos)++] - '0'), digits++;
  if (*pos < len && buf[*pos] == '-' && digits == 0) return -1;
  if (!digits || *pos >= len || buf[*pos] != '\n') return -1;
  (*pos)++;
  return v;
}

int main(int argc, char **argv) {
  char self[4096];
  snprintf(self, sizeof self, "%s", argv[0]);
  const char *dir = dirname(self);
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/launchd.sock", dir) >= sizeof addr.sun_path) {
    fprintf(stderr, "launchctl (fake): socket path too long\n");
    return 1;
  }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
    fprintf(stderr, "launchctl (fake): cannot reach the fake launchd in %s\n", dir);
    return 1;
  }
  char *req = NULL;
  size_t req_len = 0;
  FILE *m = open_memstream(&req, &req_len);
  fputs("{\"framed\":true,\"argv\":[", m);
  for (int i = 1; i < argc; i++) {
    if (i > 1) fputc(',', m);
    json_string(m, argv[i]);
  }
  fputs("]}\n", m);
  fclose(m);
  if (write_all(fd, req, req_len) != 0) return 1;
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len == cap) buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + len, cap - len);
    if (r <= 0) break;
    len += (size_t)r;
  }
  size_t pos = 0;
  long code = number_at(buf, len, &pos);
  long out_len = number_at(buf, len, &pos);
  if (code < 0 || out_len < 0 || pos + (size_t)out_len > len) {
    fprintf(stderr, "launchctl (fake): malformed reply from the fake launchd\n");
    return 1;
  }
  fwrite(buf + pos, 1, (size_t)out_len, stdout);
  pos += (size_t)out_len;
  long err_len = number_at(buf, len, &pos);
  if (err_len < 0 || pos + (size_t)err_len > len) return 1;
  fwrite(buf + pos, 1, (size_t)err_len, stderr);
  return (int)code;
}
