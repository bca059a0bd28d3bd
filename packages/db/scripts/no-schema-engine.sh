#!/bin/sh
# The Prisma CLI insists on a native schema engine it cannot download here. `prisma generate`
# never runs it, so this stub only satisfies the check. Migrations: `pnpm cli db migrate`.
echo "convertd: the native Prisma schema engine is not available; use 'pnpm cli db migrate'" >&2
exit 1
