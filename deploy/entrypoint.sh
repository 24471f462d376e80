#!/bin/sh
# Container entry point: `crm-entrypoint SERVICE [extra args]`.
# Each service listens on all interfaces inside the pod unless told otherwise;
# everything else comes from the environment (see deploy/k8s/base).
set -eu

usage() {
    echo "usage: crm-entrypoint customer|sales|support|loyalty|gateway|crm [args...]" >&2
}

service="${1:-help}"
if [ "$#" -gt 0 ]; then shift; fi

case "$service" in
    customer|sales|support|loyalty)
        # Default listen address: all interfaces on the service's usual port.
        case "$service" in
            customer) export CUSTOMER_GRPC_ADDR="${CUSTOMER_GRPC_ADDR:-0.0.0.0:50051}" ;;
            sales) export SALES_GRPC_ADDR="${SALES_GRPC_ADDR:-0.0.0.0:50052}" ;;
            support) export SUPPORT_GRPC_ADDR="${SUPPORT_GRPC_ADDR:-0.0.0.0:50053}" ;;
            loyalty) export LOYALTY_GRPC_ADDR="${LOYALTY_GRPC_ADDR:-0.0.0.0:50054}" ;;
        esac
        exec python -m "crm_${service}.main" "$@"
        ;;
    gateway)
        export GATEWAY_BIND="${GATEWAY_BIND:-0.0.0.0:8080}"
        # Worker heartbeat files on tmpfs: the root filesystem is read-only.
        exec gunicorn -c python:crm_gateway.gunicorn_conf --worker-tmp-dir "${GATEWAY_WORKER_TMP_DIR:-/tmp}" \
            "$@" 'crm_gateway.app:create_app()'
        ;;
    crm)
        exec crm "$@"
        ;;
    help|-h|--help)
        usage
        exit 0
        ;;
    *)
        usage
        exit 64
        ;;
esac
