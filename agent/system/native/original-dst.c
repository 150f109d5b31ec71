/*
 * SO_ORIGINAL_DST for Node (Linux): where a connection redirected by nftables/iptables `redirect`
 * (or `dnat`) was going before the kernel rewrote its destination. Node has no getsockopt; this is
 * the whole addon: one N-API function, originalDestination(fd) -> { address, port, family } | null.
 * null means the socket was not redirected (no NAT entry: ENOENT) or the option does not apply.
 * Built by scripts/build-native.mjs with the system C compiler against Node's own headers.
 */
#include <node_api.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

/* linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h: both 80 (their headers clash with netinet/in.h). */
#define OUTPOST_SO_ORIGINAL_DST 80
#define OUTPOST_IP6T_SO_ORIGINAL_DST 80

static napi_value set_string(napi_env env, napi_value obj, const char* key, const char* value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
  return obj;
}

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "OUTPOST_ORIGINAL_DST_FD", "originalDestination(fd): fd must be a non-negative integer");
    return NULL;
  }
  struct sockaddr_storage local;
  socklen_t len = sizeof local;
  memset(&local, 0, sizeof local);
  if (getsockname(fd, (struct sockaddr*)&local, &len) != 0) {
    napi_throw_error(env, "OUTPOST_ORIGINAL_DST_SOCKET", strerror(errno));
    return NULL;
  }
  struct sockaddr_storage dst;
  memset(&dst, 0, sizeof dst);
  len = sizeof dst;
  int rc = local.ss_family == AF_INET6
               ? getsockopt(fd, SOL_IPV6, OUTPOST_IP6T_SO_ORIGINAL_DST, &dst, &len)
               : getsockopt(fd, SOL_IP, OUTPOST_SO_ORIGINAL_DST, &dst, &len);
  napi_value result;
  if (rc != 0) {
    if (errno == ENOENT || errno == ENOPROTOOPT || errno == EOPNOTSUPP) {
      napi_get_null(env, &result);
      return result;
    }
    napi_throw_error(env, "OUTPOST_ORIGINAL_DST_FAILED", strerror(errno));
    return NULL;
  }
  char text[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  const char* family = "IPv4";
  if (dst.ss_family == AF_INET6) {
    struct sockaddr_in6* a = (struct sockaddr_in6*)&dst;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
    family = "IPv6";
  } else {
    struct sockaddr_in* a = (struct sockaddr_in*)&dst;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  }
  napi_create_object(env, &result);
  set_string(env, result, "address", text);
  set_string(env, result, "family", family);
  napi_value p;
  napi_create_int32(env, port, &p);
  napi_set_named_property(env, result, "port", p);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &fn);
  napi_set_named_property(env, exports, "originalDestination", fn);
  return exports;
}
