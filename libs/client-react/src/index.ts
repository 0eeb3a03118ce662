// Public API of @seqcast/react.
export { type RoomStatus, type RoomView, useConnectionState, useRoom, type UseRoomOptions } from './lib/use-room';
