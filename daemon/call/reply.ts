/**
 * What the call logic hands back to a transport: plain data (strings, numbers, buffers, lists,
 * dictionaries). `control/` encodes it as bencode or JSON; the call code never sees an encoding.
 */
export type ReplyValue = string | Buffer | number | bigint | boolean | null | ReplyValue[] | { [key: string]: ReplyValue | undefined };
export type Reply = { [key: string]: ReplyValue };
