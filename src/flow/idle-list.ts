/**
 * Connections in order of last activity (an intrusive doubly linked list): moving one to the tail
 * on each packet is O(1) without allocation, and the idle sweep only looks at the head.
 */
export interface IdleLinks<T extends IdleLinks<T>> {
  idleList: IdleList<T> | null;
  previousIdle: T | null;
  nextIdle: T | null;
}

export class IdleList<T extends IdleLinks<T>> {
  head: T | null = null;
  tail: T | null = null;

  moveToTail(item: T): void {
    if (this.tail === item) return;
    item.idleList?.remove(item);
    item.idleList = this;
    item.previousIdle = this.tail;
    item.nextIdle = null;
    if (this.tail === null) this.head = item;
    else this.tail.nextIdle = item;
    this.tail = item;
  }

  remove(item: T): void {
    if (item.previousIdle === null) this.head = item.nextIdle;
    else item.previousIdle.nextIdle = item.nextIdle;
    if (item.nextIdle === null) this.tail = item.previousIdle;
    else item.nextIdle.previousIdle = item.previousIdle;
    item.idleList = null;
    item.previousIdle = null;
    item.nextIdle = null;
  }
}
