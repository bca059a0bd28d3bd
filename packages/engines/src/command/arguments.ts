// The `arguments` of a command are split and refused by the catalogue's code, which the gateway
// also runs at creation.
export { refused, splitArguments } from '@convertd/api';
