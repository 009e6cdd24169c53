/** The ng client of the shared support library (support/ng-client.ts), under its old test path. */
export { NgClient, decodeNgBody, splitCookie, type NgReply, type NgRequestOptions } from '../../support/ng-client.js';
